"""The kernel compiler: Python AST -> typed IR -> SPIR-V, plus the seams the runtime uses.

>>> ck = compile_kernel(saxpy, Target())      # doctest: +SKIP
>>> ck.workgroup, [p.name for p in ck.params]  # doctest: +SKIP
((256, 1, 1), ['a', 'x', 'y'])

Stages, one module each: :mod:`.resolve` (sources, globals, dependency closure), :mod:`.frontend`
(AST -> IR, with :mod:`.values`, :mod:`.calls` and :mod:`.typerules`), :mod:`.passes` (the optimisation
pipeline), :mod:`.lower` (IR -> SPIR-V). :mod:`.entry` ties a kernel's parameters to the launch ABI.
"""
from .artifact import CompiledKernel, GlobalBinding, Param  # noqa: F401
from .driver import compile_kernel  # noqa: F401
from .resolve import choose_workgroup, dependency_hash  # noqa: F401
from .target import Target  # noqa: F401
from .emulator import Emulation  # noqa: F401
