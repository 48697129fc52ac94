"""The kernel stub: the seam between the importer (which makes it) and the runtime (which launches it).

A :class:`Kernel` wraps the plain Python function with a stable id, a snapshot of its source and the
marker's options. Compilation (``legionella.compiler``) and launching (``legionella.runtime``) are
imported lazily, so importing a module full of kernels costs no Vulkan and no codegen.

>>> @kernel(workgroup=(64,))
... def double(a: Buffer[f32]):
...     a[global_id().x] *= 2.0
>>> double.id  # doctest: +ELLIPSIS
'...:double#...'
"""
import functools
import hashlib
import inspect
import textwrap
import types

import numpy as np

from .errors import MarkerError

KERNEL_OPTIONS = ("workgroup",)


def kernel_id(module, qualname, source, options):
    """``module:qualname#hash``, the hash over the definition's source and sorted marker options."""
    digest = hashlib.sha256()
    digest.update(source.encode())
    digest.update(repr(sorted(options.items())).encode())
    return f"{module}:{qualname}#{digest.hexdigest()[:16]}"


def normalize_workgroup(value, filename=None, lineno=None):
    """Check a ``workgroup=`` option (an int, or a tuple or list of 1 to 3 ints) and return it as a tuple
    of 1 to 3 positive ints.

    Written for speed (it runs for every kernel a module defines, at import): exact type checks, which
    also refuse ``True`` as an int, and the message formatted only on failure."""
    dims = (value,) if type(value) is int else tuple(value) if type(value) is list else value
    if type(dims) is tuple and 0 < len(dims) <= 3:
        for v in dims:
            if type(v) is not int or v <= 0:
                break
        else:
            return dims
    where = f"{filename}:{lineno}: " if filename is not None else ""
    raise ValueError(f"{where}workgroup must be a tuple of 1 to 3 positive ints, like workgroup=(256,); "
                     f"got {value!r}")


MAX_GRID = 2**31 - 1  # global_id() components are i32


def normalize_grid(grid):
    """``grid`` (an int or a tuple of 1 to 3 ints in ``[0, 2**31)``; numpy ints too, bools not) as a 3-tuple
    padded with 1s: the rule of ``kernel[grid]`` on the device and ``kernel.emulate[grid]`` alike."""
    if type(grid) is int and 0 <= grid <= MAX_GRID:  # the common case, kept fast: it runs at every launch
        return (grid, 1, 1)
    dims = grid if isinstance(grid, tuple) else (grid,)
    if not 1 <= len(dims) <= 3:
        raise ValueError(f"a launch grid has 1 to 3 dimensions, got {grid!r}")
    if not all(isinstance(d, (int, np.integer)) and not isinstance(d, (bool, np.bool_)) for d in dims):
        raise TypeError(f"a launch grid is an int or a tuple of ints, got {grid!r}")
    if any(d < 0 for d in dims):
        raise ValueError(f"a launch grid cannot be negative, got {grid!r}")
    if any(d > MAX_GRID for d in dims):
        raise ValueError(f"a launch grid has at most {MAX_GRID:,} invocations per dimension (global_id() is "
                         f"i32), got {grid!r}: use a 2-D or 3-D grid, or loop over the rest in the kernel")
    return tuple(int(d) for d in dims) + (1,) * (3 - len(dims))


class Kernel:
    """A compute kernel: launch it with ``kernel[grid](*args)``, run it on the host with
    ``kernel.emulate[grid](*args)``, inspect it with ``kernel.spirv()`` and ``kernel.disassemble()``.
    """

    def __init__(self, py_func, source, options=None, lineno=None, qualname=None, *, filename=None, module=None):
        """Wrap ``py_func`` with the ``source`` snapshot of its definition and the marker's ``options``.

        ``options`` are taken as they are: the marker parser and :func:`kernel` check them before they get
        here, and :attr:`workgroup` checks what it returns, so the stub the import rewrite makes for every
        marked def is cheap to build. The rewrite passes everything but ``filename`` and ``module``
        positionally, the cheapest call there is; what is not passed is read from ``py_func`` on first use.
        """
        self.py_func = py_func
        self.source = source
        self.options = {} if options is None else options
        self.lineno = lineno or py_func.__code__.co_firstlineno
        self.qualname = qualname or py_func.__qualname__
        self.__name__ = py_func.__name__
        self.__doc__ = py_func.__doc__
        if filename is not None:
            self.filename = filename
        if module is not None:
            self.module = module

    @functools.cached_property
    def filename(self):
        """The file the kernel is defined in (``py_func``'s, unless the constructor was told otherwise)."""
        return self.py_func.__code__.co_filename

    @functools.cached_property
    def module(self):
        """The name of the module the kernel is defined in, the first part of its id."""
        return self.py_func.__module__

    @property
    def __wrapped__(self):
        """The plain function, for ``inspect.signature`` and ``inspect.unwrap`` (``functools.wraps`` sets it)."""
        return self.py_func

    @functools.cached_property
    def id(self):
        """``module:qualname#hash``: stable across processes (see :func:`kernel_id`); computed on first use,
        so importing a module of many kernels stays cheap."""
        return kernel_id(self.module, self.qualname, self.source, self.options)

    @property
    def workgroup(self):
        """The workgroup size the marker asked for, or None to let the compiler choose. Checked here, where
        the compiler and the emulator ask for it, rather than in the constructor: options from a marker or
        :func:`kernel` are checked already, and a module's stubs stay cheap to build."""
        value = self.options.get("workgroup")
        return None if value is None else normalize_workgroup(value, self.filename, self.lineno)

    def __getitem__(self, grid):
        launch = _launch_class or _load_launch_class()
        return launch(self, grid)

    @property
    def emulate(self):
        """``kernel.emulate[grid](*args)`` runs the Python function over the grid on numpy arrays."""
        from . import compiler
        return compiler.Emulation(self)

    def compile(self, target=None):
        """The :class:`~legionella.compiler.artifact.CompiledKernel` for ``target`` (default: the current
        device's, or a generic Vulkan 1.1 target when no device has been opened)."""
        from . import compiler
        if target is None:
            target = _current_target()
        return compiler.compile_kernel(self, target)

    def spirv(self, target=None):
        """The SPIR-V binary, as bytes."""
        return self.compile(target).spirv

    def disassemble(self, target=None):
        """The SPIR-V as text close to ``spirv-dis`` (no spirv-tools needed)."""
        from . import spirv
        return spirv.disassemble(self.spirv(target))

    def __call__(self, *args, **kwargs):
        raise TypeError(f"kernel {self.__name__!r} is launched with a grid: {self.__name__}[n](...) "
                        f"on the device, or {self.__name__}.emulate[n](...) on the host; "
                        f"{self.__name__}.py_func(...) calls the plain Python function")

    def __repr__(self):
        return f"<legionella.Kernel {self.id}>"


def decorated_kernel(value, source, options, lineno, qualname, filename):
    """The stub for a marked def that has decorators (the import rewrite calls this one instead of
    :class:`Kernel` when there are any); ``value`` is what the decorators returned.

    The kernel is compiled from the def's own source, so its ``py_func`` must be the def's own function:
    ``@staticmethod`` is unwrapped (a Kernel is reached the same way from a class or an instance), a
    ``functools.wraps`` wrapper is followed through ``__wrapped__``, and an ``@lg.kernel`` under the
    marker is the same kernel, not a second one (its options join the marker's). Anything else cannot be
    launched: a :class:`MarkerError` at import naming ``filename`` and ``lineno`` (the def's first line).

    >>> def k(a: Buffer[f32]): ...
    >>> decorated_kernel(staticmethod(k), "...", {}, k.__code__.co_firstlineno, "C.k", "m.py").py_func is k
    True
    """
    def error(what):
        return MarkerError(f"kernel {qualname!r}: {what}", filename=filename, lineno=lineno)

    options = dict(options)
    while not isinstance(value, types.FunctionType) or hasattr(value, "__wrapped__"):
        if type(value) is staticmethod:
            value = value.__func__
        elif isinstance(value, Kernel):
            for key, given in value.options.items():  # @lg.kernel(...)'s options join the marker's
                if options.setdefault(key, given) != given:
                    raise error(f"the marker says {key}={options[key]!r} and @lg.kernel says {key}={given!r}; "
                                "give it once")
            value = value.py_func
        elif isinstance(value, types.FunctionType):  # (unwrap raises ValueError on a loop of __wrapped__)
            value = inspect.unwrap(value, stop=lambda f: not isinstance(f, types.FunctionType))
        else:
            raise error(f"its decorators make it a {type(value).__name__} object, which cannot be launched; "
                        + DECORATOR_RULE)
    if value.__code__.co_firstlineno != lineno:
        raise error(f"its decorators return another function, {value.__qualname__!r} (line "
                    f"{value.__code__.co_firstlineno}), with no __wrapped__ leading back to the def; "
                    + DECORATOR_RULE)
    return Kernel(value, source, options, lineno, qualname)


DECORATOR_RULE = ("a marked def may carry only decorators that return the function (or a functools.wraps "
                  "wrapper of it), @staticmethod and @lg.kernel; remove that decorator, or the marker")


_launch_class = None  # runtime.Launch, imported on the first launch (the runtime loads Vulkan)


def _load_launch_class():
    global _launch_class
    from .runtime import Launch
    _launch_class = Launch
    return Launch


def _current_target():
    import sys
    runtime = sys.modules.get("legionella.runtime")
    if runtime is not None and runtime.has_current_device():
        return runtime.device().target
    from .compiler.target import Target
    return Target()


def kernel(fn=None, *, workgroup=None):
    """Decorator form of the ``# legionella: kernel`` marker, for notebooks and code without the hook.

    >>> @kernel
    ... def fill(a: Buffer[f32], v: f32):
    ...     i = global_id().x
    ...     if i < len(a):
    ...         a[i] = v
    """
    def wrap(func):
        if type(func) is staticmethod:  # @lg.kernel above @staticmethod, in a class
            func = func.__func__
        if not isinstance(func, types.FunctionType):
            raise TypeError(f"@lg.kernel decorates a function (a def), got {func!r}; write @lg.kernel or "
                            "@lg.kernel(workgroup=(256,)) above the def")
        try:
            source = textwrap.dedent(inspect.getsource(func))
        except (OSError, TypeError) as e:
            raise ValueError(f"cannot read the source of {func.__qualname__}: {e}; kernels need their "
                             "source (define them in a file, or in a notebook cell)") from None
        code = func.__code__
        options = {} if workgroup is None else {
            "workgroup": normalize_workgroup(workgroup, code.co_filename, code.co_firstlineno)}
        return Kernel(func, source, options)

    return wrap if fn is None else wrap(fn)
