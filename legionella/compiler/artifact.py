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
"""
import dataclasses


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
