"""``# legionella: binding`` globals: buffers a kernel reaches as module-level names, not parameters.

Each declaration (a :class:`~legionella.lang.binding.BindingDecl`) a kernel or its helpers use becomes a
:class:`~.ir.BufferRef` in the declared descriptor set and binding; its shape words follow the
parameters' push constants, and it is reported in ``CompiledKernel.globals``. A ``Uniform[T]``
declaration becomes a :class:`~.uniforms.UniformRef` instead (no shape; see :mod:`.uniforms`).
"""
from ..lang.types import MatrixType, ScalarType, StructType, VectorType, i32
from .artifact import GlobalBinding
from .ir import BufferRef
from .typerules import TypeRuleError
from .uniforms import UniformRef, uniform_problem


def numeric_element(t):
    """Whether a buffer element type has a memory layout (bools have none)."""
    if isinstance(t, (ScalarType, VectorType)):
        return (t.kind if isinstance(t, ScalarType) else t.scalar.kind) != "b"
    if isinstance(t, StructType):
        return all(numeric_element(ft) for _, ft in t.fields)
    return isinstance(t, MatrixType)


class GlobalBuffers:
    """The binding declarations met while compiling one kernel."""

    def __init__(self, param_buffers, members, offset):
        self.param_buffers = param_buffers
        self.members = members  # the push-constant members, extended with each global's shape
        self.offset = offset  # the next free push-constant byte
        self.refs = {}  # BindingDecl -> BufferRef, in first-use order

    def ref(self, decl):
        """The BufferRef of a declaration; raises TypeRuleError for one that cannot be used."""
        if decl in self.refs:
            return self.refs[decl]
        if decl.set == 0 and decl.binding < len(self.param_buffers):
            raise TypeRuleError(f"{decl.name} is declared at set=0 binding={decl.binding} ({decl.where}), which "
                                f"this kernel's buffer parameter '{self.param_buffers[decl.binding].name}' uses "
                                "(buffer parameters take set 0 from binding 0); declare globals in another set")
        if decl.type.uniform:
            problem = uniform_problem(decl.type.element)
            if problem:
                raise TypeRuleError(f"{decl.name} ({decl.where}) cannot be a {decl.type.name}: {problem}; "
                                    f"declare it as Buffer[{decl.type.element.name}] and read {decl.name}[0]")
            self.refs[decl] = UniformRef(decl.name, decl.type, decl.binding, -1, decl.set, decl)
            return self.refs[decl]
        if not numeric_element(decl.type.element):
            raise TypeRuleError(f"{decl.name}: {decl.type.name} cannot be bound; use numeric elements")
        self.offset = -(-self.offset // 4) * 4
        ref = BufferRef(decl.name, decl.type, decl.binding, len(self.members) + 2, decl.set, decl)
        for k in range(decl.type.ndim):
            self.members.append((f"{decl.name}.shape{k}", i32, self.offset + 4 * k))
        self.offset += 4 * decl.type.ndim
        self.refs[decl] = ref
        return ref

    def artifact(self, written):
        """The ``CompiledKernel.globals`` entries, in first-use order."""
        return [GlobalBinding(ref.name, ref.declaration.module, ref.descriptor_set, ref.binding, ref.type,
                              shape_offset=-1 if ref.type.uniform else self.members[ref.shape_member - 2][2],
                              writes=ref in written)
                for ref in self.refs.values()]
