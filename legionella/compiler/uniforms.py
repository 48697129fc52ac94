"""``Uniform[T]`` binding globals: one read-only value of ``T`` in a uniform buffer.

A kernel reads a ``Uniform[T]`` declaration ``NAME`` as ``NAME.field`` when ``T`` is a dataclass and as
``NAME`` itself (or ``NAME.x``, ``NAME.xy``) when ``T`` is a scalar or a vector; it never stores into it.
The frontend represents such a read as a :class:`~.frontend.Place` of a :class:`UniformRef` (index 0),
so loads go through the ordinary paths and only the access chain differs: the variable is a
``Block``-decorated struct in the ``Uniform`` storage class (descriptor type ``UNIFORM_BUFFER``) holding
``T``'s fields directly, or the one scalar or vector, with std430 offsets. Those equal std140's for the
types allowed here (see :func:`uniform_problem`), which is why nested structs, matrices and arrays are
refused rather than laid out twice.
"""
import dataclasses

from ..lang.types import ScalarType, StructType, VectorType, i32
from ..spirv import Op, enums
from .ir import BufferRef, Expr

SC = enums.StorageClass
DEC = enums.Decoration


@dataclasses.dataclass(frozen=True, eq=False)
class UniformRef(BufferRef):
    """A ``Uniform[T]`` global: its set, binding and declaration; no shape in the push constants."""

    def __repr__(self):
        return self.name


def _member_problem(t):
    """Why a scalar or vector cannot be in a uniform block, or None."""
    if isinstance(t, VectorType):
        t = t.scalar
    if not isinstance(t, ScalarType):
        return f"{t.name} members (nested structs, matrices and arrays) are laid out differently in uniform blocks"
    if t.kind == "b":
        return "bool has no memory layout"
    if t.size < 4:
        return f"{t.name} in a uniform block needs 8/16-bit uniform storage, which is not supported"
    return None


def uniform_problem(element):
    """Why ``Uniform[element]`` cannot be compiled (std140 would lay it out unlike std430), or None.

    >>> uniform_problem(f32) is None                                    # doctest: +SKIP
    True
    """
    if isinstance(element, StructType):
        problems = [f"field '{name}': {p}" for name, t in element.fields if (p := _member_problem(t))]
        return "; ".join(problems) or None
    return _member_problem(element)


def place_index():
    """The index of the one element of a uniform (ignored by :func:`uniform_pointer`)."""
    return Expr("const", i32, attr=0)


def _uniform_var(ml, buffer):
    """The Uniform-storage variable of ``buffer``: a Block of T's fields, or of the one scalar/vector."""
    var = ml.buffer_vars.get(buffer)
    if var is None:
        m = ml.m
        element = buffer.type.element
        fields = element.fields if isinstance(element, StructType) else (("value", element),)
        offsets = element.offsets if isinstance(element, StructType) else (0,)
        block = m.type_struct([ml.type(t) for _, t in fields])
        m.decorate(block, DEC.Block)
        for k, ((name, _), offset) in enumerate(zip(fields, offsets)):
            m.member_decorate(block, k, DEC.Offset, offset)
            m.member_name(block, k, name)
        m.name(block, f"{buffer.name}_block")
        var = m.variable(m.type_pointer(SC.Uniform, block), SC.Uniform)
        m.decorate(var, DEC.DescriptorSet, buffer.descriptor_set)
        m.decorate(var, DEC.Binding, buffer.binding)
        m.name(var, buffer.name)
        ml.buffer_vars[buffer] = var
    return var


def uniform_pointer(lowerer, buffer, path, leaf_type):
    """An access chain to ``path`` inside the uniform ``buffer`` (a field, or a vector component)."""
    ml = lowerer.ml
    var = _uniform_var(ml, buffer)
    indices = path if isinstance(buffer.type.element, StructType) else (0, *path)
    return lowerer.f.op(Op.AccessChain, ml.pointer(SC.Uniform, leaf_type), var,
                        *(ml.const(i32, k) for k in indices))
