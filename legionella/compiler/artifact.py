"""What the compiler hands the runtime: SPIR-V plus everything needed to bind and launch it.

Launch ABI (the runtime and the generated code both follow it):

* Push constants start with a 32-byte header: ``group_offset: uvec3`` at offset 0 and ``num_groups: uvec3``
  at offset 16. ``global_id() = (WorkgroupId + group_offset) * workgroup + LocalInvocationId`` and
  ``group_id() = WorkgroupId + group_offset``, so the runtime may split a grid that exceeds
  ``maxComputeWorkGroupCount`` into several dispatches; ``num_groups()`` is the whole launch's count.
* A kernel with ``elements_per_invocation = E > 1`` (the ``vectorize`` pass) handles ``E`` consecutive
  elements along x per invocation: the runtime dispatches ``ceil(groups_x / E)`` workgroups along x but
  writes the count the one-element kernel would have had (``groups_x``) into ``num_groups``, which the
  kernel uses to leave alone the elements that kernel would not have reached. Every buffer must be
  bound at an offset that is a multiple of ``4 E`` bytes.
* Each scalar parameter and each buffer's shape (``ndim`` i32 words) follows in the push constants at the
  offsets recorded here; ``push_constant_size`` is the total, a multiple of 4.
* Each buffer parameter is a storage buffer (a struct holding a runtime array of the element type) in
  descriptor set 0 at ``binding``, in parameter order; module-level ``# legionella: binding`` globals use
  their declared set and binding and appear in ``globals``: a ``Buffer[T]`` one is a storage buffer with
  its shape in the push constants, a ``Uniform[T]`` one a uniform buffer (``UNIFORM_BUFFER``) holding
  one ``T``, with no shape.

Serialization (for the disk cache): :meth:`CompiledKernel.to_document` gives a JSON-ready document of
plain values and :meth:`CompiledKernel.from_document` reads one back, checking every field; reading runs
no code from the document (unlike pickle), so a crafted cache entry can at worst be refused.
"""
import dataclasses
import sys
import types

from ..lang.types import SCALARS, BufferType, MatrixType, ScalarType, StructType, VectorType

_U32_MAX = 2**32 - 1  # Vulkan's uint32_t: no count or offset is larger


@dataclasses.dataclass(frozen=True)
class Param:
    """One kernel parameter.

    ``kind`` is ``"buffer"`` or ``"scalar"``; ``type`` the lang type (``BufferType`` or ``ScalarType``).
    Buffers: ``binding`` (set 0), ``shape_offset`` (push-constant byte offset of the shape words),
    ``writes`` (False when the kernel provably never stores to it, so it may be bound read-only).
    Scalars: ``offset`` (push-constant byte offset).
    """
    name: str
    kind: str
    type: object
    binding: int = -1
    shape_offset: int = -1
    offset: int = -1
    writes: bool = True


@dataclasses.dataclass(frozen=True)
class GlobalBinding:
    """A ``# legionella: binding set=S binding=B`` declaration a kernel uses; ``shape_offset`` is -1 and
    ``writes`` False for a ``Uniform[T]`` (``type.uniform``)."""
    name: str
    module: str
    set: int
    binding: int
    type: object
    shape_offset: int = -1
    writes: bool = True


@dataclasses.dataclass(frozen=True)
class CompiledKernel:
    """The result of compiling one kernel for one :class:`~legionella.compiler.target.Target`."""
    name: str
    spirv: bytes
    entry_point: str
    workgroup: tuple  # always 3 ints
    params: tuple  # of Param, in signature order
    push_constant_size: int
    globals: tuple = ()  # of GlobalBinding
    shared_memory: int = 0  # bytes of workgroup memory the kernel declares
    elements_per_invocation: int = 1  # consecutive x elements one invocation handles (see the ABI above)

    HEADER_SIZE = 32

    def to_document(self):
        """This kernel's metadata as plain JSON values (everything but ``spirv``, which is stored as bytes).

        Raises ``ValueError`` for a kernel that cannot be named that way: one whose struct element is a
        class defined inside a function (it has no importable name).
        """
        return {f.name: _FIELD_WRITERS.get(f.name, _plain)(getattr(self, f.name))
                for f in dataclasses.fields(self) if f.name != "spirv"}

    @classmethod
    def from_document(cls, document, spirv):
        """The kernel :meth:`to_document` described, with the SPIR-V words ``spirv``.

        Every field's type and range and the launch ABI's invariants are checked; anything unexpected
        (a missing or extra field, a wrong type, a struct class not found among the imported modules)
        raises ``ValueError``."""
        fields = _read_fields(document, _KERNEL_FIELDS, "kernel")
        _check_spirv(spirv)
        size = fields["push_constant_size"]
        if size < cls.HEADER_SIZE or size % 4:
            raise _bad(f"push_constant_size {size}")
        params, globals_ = fields["params"], fields["globals"]
        for item in (*params, *globals_):
            _check_push_offsets(item, size)
        bindings = [p.binding for p in params if p.kind == "buffer"]
        if bindings != list(range(len(bindings))):
            raise _bad(f"buffer bindings {bindings} are not 0..n-1")
        return cls(spirv=spirv, **fields)


# ---- Serialization: every value is a str, int, bool, list or dict; each field has a reader that checks it ----

def _bad(what):
    """The error for a document this module did not write (its message is built only then: reading a
    valid document formats nothing)."""
    return ValueError(f"cached kernel: bad {what}")


def _plain(value):
    return list(value) if isinstance(value, tuple) else value


def _int_in(low, high=_U32_MAX):
    def read(value):
        if not (type(value) is int and low <= value <= high):  # bool is not an int here
            raise _bad(f"number {value!r}")
        return value
    return read


def _bool(value):
    if type(value) is not bool:
        raise _bad(f"flag {value!r}")
    return value


def _identifier(value):
    if not (type(value) is str and value.isidentifier()):
        raise _bad(f"name {value!r}")
    return value


def _dotted_name(value):
    if not (type(value) is str and all(part.isidentifier() for part in value.split("."))):
        raise _bad(f"name {value!r}")
    return value


def _one_of(*choices):
    def read(value):
        if not (type(value) is str and value in choices):
            raise _bad(f"choice {value!r}")
        return value
    return read


def _list_of(read_item, length=None):
    def read(value):
        if not (type(value) is list and (length is None or len(value) == length)):
            raise _bad(f"list {value!r}")
        return tuple(read_item(item) for item in value)
    return read


def _read_fields(document, readers, what):
    """``document``'s fields, each through its reader; the keys must be exactly ``readers``' keys."""
    if not (type(document) is dict and document.keys() == readers.keys()):
        raise _bad(f"{what} fields")
    return {name: read(document[name]) for name, read in readers.items()}


def _check_spirv(spirv):
    if type(spirv) is not bytes or len(spirv) < 20 or len(spirv) % 4 or spirv[:4] != b"\x03\x02\x23\x07":
        raise _bad("SPIR-V module")


def _check_push_offsets(item, push_size):
    """The push-constant words a parameter or global occupies lie inside the push constants, past the header."""
    if isinstance(item.type, BufferType):
        start, size = item.shape_offset, 4 * item.type.ndim
        if (start == -1) != item.type.uniform:
            raise _bad(f"shape_offset {start} of {item.name}")
        if item.type.uniform:
            return
    else:
        start, size = item.offset, item.type.size
    if not CompiledKernel.HEADER_SIZE <= start <= push_size - size:
        raise _bad(f"push-constant offset {start} of {item.name}")


# Lang types: a scalar by its name ("f32"); the others as a dict tagged by their kind.

def _struct_class_path(cls):
    """``module:qualname`` of a struct's class, which :func:`_named_class` finds again (else ValueError)."""
    path = f"{cls.__module__}:{cls.__qualname__}"
    try:
        found = _named_class(path)
    except ValueError:  # e.g. "f.<locals>.Point": a class defined inside a function
        found = None
    if found is not cls:
        raise _bad(f"struct class {path} (define it at module level to cache the kernel)")
    return path


def _named_class(path):
    """The dataclass ``module:qualname`` names, looked up by dictionary in modules already imported: nothing
    is imported and no attribute hook runs, so a crafted name can only fail to be found."""
    module_name, _, qualname = path.partition(":")
    _dotted_name(module_name)
    _dotted_name(qualname)
    found = sys.modules.get(module_name)
    for part in qualname.split("."):
        if not isinstance(found, (types.ModuleType, type)):
            raise _bad(f"struct class {path}")
        found = vars(found).get(part)
    if not (isinstance(found, type) and dataclasses.is_dataclass(found)):
        raise _bad(f"struct class {path}")
    return found


_TYPE_WRITERS = {
    ScalarType: lambda t: t.name,
    VectorType: lambda t: {"vector": t.scalar.name, "n": t.n},
    MatrixType: lambda t: {"matrix": t.column.scalar.name, "cols": t.cols, "rows": t.column.n},
    StructType: lambda t: {"struct": _struct_class_path(t.cls),
                           "fields": [[name, _type_document(f)] for name, f in t.fields]},
    BufferType: lambda t: {"buffer": _type_document(t.element), "ndim": t.ndim, "uniform": t.uniform},
}


def _type_document(t):
    write = _TYPE_WRITERS.get(type(t))
    if write is None:
        raise _bad(f"type {t!r}")
    return write(t)


def _scalar(name):
    if not (type(name) is str and name in SCALARS):
        raise _bad(f"scalar type {name!r}")
    return SCALARS[name]


_WIDTH = _int_in(2, 4)  # components of a vector, columns and rows of a matrix
_RANK = _int_in(1, 3)  # dimensions of a buffer


def _vector(document):
    fields = _read_fields(document, {"vector": _scalar, "n": _WIDTH}, "vector")
    return VectorType(fields["vector"], fields["n"])


def _matrix(document):
    fields = _read_fields(document, {"matrix": _scalar, "cols": _WIDTH, "rows": _WIDTH}, "matrix")
    return MatrixType(VectorType(fields["matrix"], fields["rows"]), fields["cols"])


def _struct_field(pair):
    if not (type(pair) is list and len(pair) == 2):
        raise _bad(f"struct field {pair!r}")
    return _identifier(pair[0]), _lang_type(pair[1], _FIELD_KINDS)


def _struct(document):
    fields = _read_fields(document, {"struct": _named_class, "fields": _list_of(_struct_field)}, "struct")
    cls, members = fields["struct"], fields["fields"]
    names = [name for name, _ in members]
    if not (names and names == [f.name for f in dataclasses.fields(cls)]):
        raise _bad(f"fields {names} of {cls.__qualname__}")
    return StructType(cls, members)


def _buffer(document):
    fields = _read_fields(document, _BUFFER_FIELDS, "buffer")
    if fields["uniform"] and fields["ndim"] != 1:
        raise _bad("uniform buffer rank")
    return BufferType(fields["buffer"], fields["ndim"], fields["uniform"])


_TYPE_READERS = {"vector": _vector, "matrix": _matrix, "struct": _struct, "buffer": _buffer}
_FIELD_KINDS = frozenset(("scalar", "vector", "struct"))  # what a struct may hold (lang.types.struct_type)
_ELEMENT_KINDS = _FIELD_KINDS | {"matrix"}  # what a buffer may hold
_BUFFER_KIND = frozenset(("buffer",))  # what a global is
_PARAM_KINDS = frozenset(("scalar", "vector", "buffer"))  # entry.interface: scalars, vectors, Buffer[T]
_BUFFER_FIELDS = {"buffer": lambda t: _lang_type(t, _ELEMENT_KINDS), "ndim": _RANK, "uniform": _bool}


def _lang_type(document, kinds):
    """The lang type ``document`` names; its kind must be one of ``kinds``."""
    if type(document) is str and "scalar" in kinds:
        return _scalar(document)
    tags = [key for key in document if key in kinds and key in _TYPE_READERS] if type(document) is dict else ()
    if len(tags) != 1:
        raise _bad(f"type {document!r}")
    tag, = tags
    return _TYPE_READERS[tag](document)


def _param_type(document):
    return _lang_type(document, _PARAM_KINDS)


def _param(document):
    fields = _read_fields(document, _PARAM_FIELDS, "parameter")
    is_buffer = isinstance(fields["type"], BufferType) and not fields["type"].uniform
    if is_buffer != (fields["kind"] == "buffer"):
        raise _bad(f"kind of parameter {fields['name']}")
    unused = ("offset",) if is_buffer else ("binding", "shape_offset")
    if any(fields[name] != -1 for name in unused):
        raise _bad(f"parameter {fields['name']}")
    return Param(**fields)


def _global(document):
    fields = _read_fields(document, _GLOBAL_FIELDS, "global")
    if not isinstance(fields["type"], BufferType):
        raise _bad(f"type of global {fields['name']}")
    return GlobalBinding(**fields)


_OFFSET = _int_in(-1)
_PARAM_FIELDS = {"name": _identifier, "kind": _one_of("buffer", "scalar"), "type": _param_type,
                 "binding": _OFFSET, "shape_offset": _OFFSET, "offset": _OFFSET, "writes": _bool}
_GLOBAL_FIELDS = {"name": _identifier, "module": _dotted_name, "set": _int_in(0), "binding": _int_in(0),
                  "type": lambda t: _lang_type(t, _BUFFER_KIND), "shape_offset": _OFFSET, "writes": _bool}
_KERNEL_FIELDS = {"name": _identifier, "entry_point": _identifier, "workgroup": _list_of(_int_in(1), 3),
                  "params": _list_of(_param), "push_constant_size": _int_in(0),
                  "globals": _list_of(_global), "shared_memory": _int_in(0),
                  "elements_per_invocation": _int_in(1)}


def _dataclass_document(item):
    """A Param's or GlobalBinding's fields; only ``type`` is not a plain value already."""
    document = {f.name: getattr(item, f.name) for f in dataclasses.fields(item)}
    document["type"] = _type_document(item.type)
    return document


_FIELD_WRITERS = {"params": lambda ps: [_dataclass_document(p) for p in ps],
                  "globals": lambda gs: [_dataclass_document(g) for g in gs]}
