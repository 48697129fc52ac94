"""Ahead-of-time work for the CLI: ``legionella build`` and ``legionella disasm``.

Modules are imported with the import hook installed, exactly as a program using them would import them,
so the kernel ids (``module:qualname#hash``), and with them the disk-cache keys, are the ones that
program will look up. A module is named like ``pkg.mod``, or by a path: ``examples/saxpy.py`` is
imported as ``examples.saxpy`` because ``examples/`` is a package; a directory stands for every module
under it.

>>> build_modules(["examples/saxpy.py"])     # doctest: +SKIP
examples.saxpy:saxpy  compiled      3.0 ms
built 1 kernel for llvmpipe (LLVM 15.0.6, 256 bits): 1 compiled, 0 already cached; cache: ~/.cache/legionella
0
"""
import importlib
import os
import pathlib
import sys
import time

from ..cli import message as error_message
from ..errors import CompileError, DeviceError, MarkerError
from ..kernel import Kernel
from . import launch
from .counters import stats
from .cache import cache_dir
from .vkdevice import device as current_device


# --- finding modules and kernels ------------------------------------------------------------------------------
def _package_root(path):
    """``(root directory, dotted name)`` of the module in the .py file ``path``: walks up through the
    directories that hold an ``__init__.py`` (``pkg/__init__.py`` is the module ``pkg``)."""
    path = path.resolve()
    parts = [] if path.name == "__init__.py" else [path.stem]
    parent = path.parent
    while (parent / "__init__.py").is_file():
        parts.insert(0, parent.name)
        parent = parent.parent
    return parent, ".".join(parts)


def _add_to_path(directory):
    directory = str(directory)
    if directory not in sys.path:
        sys.path.insert(0, directory)


def module_names(spec):
    """The dotted module names ``spec`` stands for: itself (``pkg.mod``), the module at a ``.py`` path, or
    every module under a directory, sorted. Adds what is needed to ``sys.path`` (the current directory,
    as ``python -m`` does, and the root of a path's package)."""
    path = pathlib.Path(spec)
    if spec.endswith(".py") or os.sep in spec or path.is_dir():
        if not path.exists():
            raise FileNotFoundError(f"no such file or directory: {spec}")
        files = [path] if path.is_file() else sorted(
            p for p in path.rglob("*.py") if "__pycache__" not in p.parts and not p.name.startswith("."))
        names = []
        for file in files:
            root, name = _package_root(file)
            _add_to_path(root)
            names.append(name)
        return names
    _add_to_path(os.getcwd())
    return [spec]


def import_module(name):
    """Import ``name`` with the import hook installed; any failure is an ImportError naming the module
    (a ``SyntaxError`` stays itself: it already names file and line)."""
    from ..importer import install
    with install():
        try:
            return importlib.import_module(name)
        except (MarkerError, SyntaxError):
            raise  # their messages name the file and line already
        except ImportError as e:
            raise ImportError(f"cannot import module {name!r}: {e}") from None
        except Exception as e:  # the module's own top-level code failed: report it, it is the user's code
            raise ImportError(f"importing module {name!r} failed: {type(e).__name__}: {e}") from None


def kernels_of(module):
    """The kernels defined in ``module`` (not the ones it imports from elsewhere), at module level or in
    its classes (nested classes too), in source order. (Kernels made inside functions exist only once the
    function runs: they are compiled at their first launch.)"""
    found, classes = {}, set()
    namespaces = [vars(module)]
    while namespaces:
        for value in list(namespaces.pop().values()):
            if isinstance(value, Kernel) and value.module == module.__name__:
                found[value.id] = value
            elif isinstance(value, type) and value.__module__ == module.__name__ and value not in classes:
                classes.add(value)
                namespaces.append(vars(value))
    return sorted(found.values(), key=lambda k: k.lineno)


# --- legionella build -----------------------------------------------------------------------------------------
class ProgressBar:
    """A one-line progress bar on stderr, redrawn in place: ``[#####.....] 3/7 examples.heat:jacobi_step``."""

    WIDTH = 30

    def __init__(self, total, stream=None):
        self.total = total
        self.stream = stream or sys.stderr
        self.done = 0

    def show(self, label):
        """Redraw the bar with ``label`` as the kernel being built."""
        filled = self.WIDTH * self.done // max(self.total, 1)
        bar = "#" * filled + "." * (self.WIDTH - filled)
        self.stream.write(f"\r[{bar}] {self.done}/{self.total} {label[:60]:<60}")
        self.stream.flush()

    def advance(self, label):
        """Count one more kernel done and redraw."""
        self.done += 1
        self.show(label)

    def close(self):
        """End the bar's line."""
        self.stream.write("\n")
        self.stream.flush()


def build_kernel(kernel, device):
    """Compile ``kernel`` for ``device`` into the disk cache (or find it there) and create its pipeline,
    so the driver's pipeline cache holds it too. Returns ``"compiled"`` or ``"cached"``."""
    before = stats()["codegen"]
    launch.Launcher(kernel, device)
    return "compiled" if stats()["codegen"] > before else "cached"


def _import_all(specs, failures):
    """The kernels of every module ``specs`` stand for; import failures go to ``failures`` as
    ``("", message)`` (the message names the module)."""
    kernels = []
    for spec in specs:
        for name in module_names(spec):
            try:
                kernels.extend(kernels_of(import_module(name)))
            except (ImportError, SyntaxError) as e:
                failures.append(("", error_message(e)))  # (a SyntaxError's str() names only the basename)
    return kernels


def _build_all(kernels, device, progress, failures):
    """Build each kernel (see :func:`build_kernel`), with a progress bar when asked; returns
    ``[(label, outcome, seconds)]`` for the ones built, and adds the others to ``failures``."""
    bar = ProgressBar(len(kernels)) if progress else None
    built = []
    for kernel in kernels:
        label = f"{kernel.module}:{kernel.qualname}"
        if bar:
            bar.show(label)
        start = time.perf_counter()
        try:
            built.append((label, build_kernel(kernel, device), time.perf_counter() - start))
        except (CompileError, DeviceError) as e:
            failures.append((label, str(e)))
        if bar:
            bar.advance(label)
    if bar:
        bar.close()
    return built


def _report_failures(failures):
    for name, message in failures:
        print(f"legionella: error: {name + ': ' if name else ''}{message}", file=sys.stderr)


def build_modules(modules, progress=False, out=None):
    """``legionella build``: compile every kernel of ``modules`` (names or paths) for the current device
    into the disk cache, so that a later process launches them with no codegen.

    Prints one line per kernel (to ``out``, default stdout) and a summary; modules that cannot be
    imported and kernels that do not compile are reported on stderr, and the others are still built.
    Returns the exit status: 0 when everything was built, 1 otherwise.
    """
    out = out or sys.stdout
    failures = []
    kernels = _import_all(modules, failures)
    if not kernels:
        if not failures:
            raise ValueError("no kernels found in " + ", ".join(modules) + " (a kernel is a function marked "
                             "'# legionella: kernel')")
        _report_failures(failures)
        return 1
    device = current_device()
    built = _build_all(kernels, device, progress, failures)
    width = max((len(label) for label, _, _ in built), default=0)
    for label, outcome, seconds in built:
        print(f"{label:<{width}}  {outcome:<8}  {seconds * 1e3:7.1f} ms", file=out)
    _report_failures(failures)
    compiled = sum(outcome == "compiled" for _, outcome, _ in built)
    print(f"built {len(built)} kernel{'s' if len(built) != 1 else ''} for {device.name}: {compiled} compiled, "
          f"{len(built) - compiled} already cached; cache: {cache_dir()}", file=out)
    return 1 if failures else 0


# --- legionella disasm ----------------------------------------------------------------------------------------
def find_kernel(target):
    """The kernel named by ``"pkg.mod:qualname"`` (or ``"path/to/mod.py:qualname"``)."""
    spec, sep, qualname = target.rpartition(":")
    if not sep or not spec or not qualname:
        raise ValueError(f"expected MODULE:KERNEL, like examples.saxpy:saxpy; got {target!r}")
    (name, *more) = module_names(spec)
    if more:
        raise ValueError(f"{spec!r} is a directory; name one module, like examples/saxpy.py:saxpy")
    module = import_module(name)
    obj = module
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    if not isinstance(obj, Kernel):
        kernels = ", ".join(k.qualname for k in kernels_of(module)) or "none"
        what = "has no attribute" if obj is None else "has no kernel"
        raise ValueError(f"module {name!r} {what} {qualname!r} (a kernel is a function marked "
                         f"'# legionella: kernel'); its kernels: {kernels}")
    return obj


def disassemble_target(target, generic=False):
    """``legionella disasm``: the SPIR-V of the kernel ``"pkg.mod:qualname"`` as text, compiled for the
    current device (through the disk cache), or for the conservative generic target with ``generic``
    (no Vulkan needed)."""
    from .. import spirv
    from ..compiler.target import Target
    kernel = find_kernel(target)
    if generic:
        return kernel.disassemble(Target())
    return spirv.disassemble(launch.compiled_kernel(kernel, current_device()).spirv)
