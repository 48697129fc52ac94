"""``compile_kernel``: the pipeline from a kernel stub to a :class:`~.artifact.CompiledKernel`.

Results are cached in process per ``(kernel, target, vectorize, aliased)``, by the Kernel object rather
than its id: the id hashes only the kernel's own source and options, and a reloaded module whose helpers
changed makes new Kernels with the same ids. The runtime's disk cache adds
:func:`~.resolve.dependency_hash` for the helpers.
"""
from ..errors import CompileError
from .artifact import CompiledKernel
from .entry import build_program
from .lower import lower
from .passes import dump_requested, run_passes
from .resolve import choose_workgroup
from .workgroup import shared_bytes

_cache = {}


def compile_kernel(kernel, target, vectorize=True, aliased=False):
    """Compile ``kernel`` for ``target``; raises :class:`~legionella.errors.CompileError` for code the
    kernel language does not support. ``vectorize=False`` keeps one element per invocation even where the
    target allows more (the launcher's variant for arrays bound at offsets vector loads cannot use).
    ``aliased=True`` allows one array to be bound to several buffer parameters: every storage buffer is
    decorated ``Aliased``, so each load reads memory after the stores before it, whichever parameter they
    went through (the launcher's variant for launches that pass an array twice and write it).

    >>> compile_kernel(saxpy, Target()).spirv[:4]  # doctest: +SKIP
    b'\\x03\\x02#\\x07'
    >>> compile_kernel(saxpy, Target(), aliased=True) is compile_kernel(saxpy, Target())  # doctest: +SKIP
    False
    """
    key = (kernel, target, vectorize, aliased)
    compiled = _cache.get(key)
    if compiled is None:
        compiled = _compile(kernel, target, vectorize, aliased)
        _cache[key] = compiled
    return compiled


def check_workgroup(kernel, workgroup, target):
    """Raise a :class:`CompileError` at the kernel's definition when ``workgroup`` (3 ints) exceeds the
    target's limits (``maxComputeWorkGroupInvocations``, ``maxComputeWorkGroupSize`` on a device): a
    pipeline with it would be invalid, with undefined results."""
    invocations = workgroup[0] * workgroup[1] * workgroup[2]
    sizes = tuple(target.max_workgroup_size)
    if invocations > target.max_workgroup_invocations or any(n > m for n, m in zip(workgroup, sizes)):
        raise CompileError(f"kernel {kernel.__name__!r} has workgroup {workgroup} ({invocations} invocations); "
                           f"{target.device_name} allows at most {target.max_workgroup_invocations} invocations "
                           f"and {sizes} per dimension: choose a smaller workgroup=",
                           filename=kernel.filename, lineno=kernel.lineno)


def _compile(kernel, target, vectorize=True, aliased=False):
    workgroup = choose_workgroup(kernel)
    check_workgroup(kernel, workgroup, target)
    program = build_program(kernel, target, workgroup)
    program.aliased = aliased
    if vectorize:
        program.vector_width = target.elementwise_width
    run_passes(program)
    spirv = lower(program, target)
    if dump_requested("spirv"):
        import sys
        from ..spirv import disassemble
        print(f";; ---- SPIR-V of {kernel.id} ----\n{disassemble(spirv)}", file=sys.stderr)
    return CompiledKernel(name=kernel.__name__, spirv=spirv, entry_point="main", workgroup=workgroup,
                          params=tuple(program.params), push_constant_size=program.push_size,
                          globals=tuple(program.globals),
                          shared_memory=shared_bytes(program),
                          elements_per_invocation=program.elements_per_invocation)
