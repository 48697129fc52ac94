"""Descriptor-binding declarations: ``# legionella: binding set=S binding=B`` above ``NAME = Buffer[T]``
(or ``NAME = Uniform[T]``, one read-only value: ``NAME.bind(value)`` takes a ``T``, see :func:`uniform_value`).

Under the import hook such a declaration becomes a :class:`BindingDecl`: one definition of the binding,
which kernels use as a global (the compiler decorates it with the same set and binding) and to which the
host binds an array by the same name::

    # legionella: binding set=0 binding=3
    PALETTE = Buffer[vec4]
    ...
    palette_module.PALETTE.bind(colours)

Each (set, binding) pair may be declared once per process; a second declaration is a
:class:`~legionella.errors.MarkerError` naming both places. Re-running the same declaration (a reload)
replaces it.
"""
import sys

import numpy as np

from ..errors import LegionellaError, MarkerError
from .types import BufferType, StructType

_declarations = {}  # (set, binding) -> BindingDecl, for the whole process


class BindingDecl:
    """One declared binding: ``name``, ``module``, ``set``, ``binding``, ``type`` (the lang
    :class:`~legionella.lang.types.BufferType`), ``filename`` and ``lineno`` of the declaration.

    >>> decl = BindingDecl(Buffer[f32], name="X", module="m", descriptor_set=0, binding=0)   # doctest: +SKIP
    >>> decl.bind(lg.zeros(16, dtype="float32"))                                          # doctest: +SKIP
    """

    def __init__(self, buffer_type, *, name, module, descriptor_set, binding, filename=None, lineno=None):
        self.name = name
        self.module = module
        self.set = descriptor_set
        self.binding = binding
        self.filename = filename
        self.lineno = lineno
        if not isinstance(buffer_type, BufferType):
            raise MarkerError(f"the binding marker marks {name} = {buffer_type!r}, which is not a Buffer[T] or "
                              "Uniform[T] of legionella.lang", filename=filename, lineno=lineno)
        self.type = buffer_type
        self._array = None
        register(self)

    @property
    def where(self):
        """``file:line`` of the declaration."""
        return f"{self.filename}:{self.lineno}"

    def bind(self, array):
        """Bind the host array (an ``lg.Array`` or anything with a matching ``dtype``) the runtime will use.

        A ``Uniform[T]`` takes an ``lg.Array`` of one ``T`` or a value of ``T`` (a dataclass instance, a
        numpy structured scalar, a number or a vector), copied now and uploaded by the next launch.
        A dtype that does not match the declared element type is a ``TypeError``."""
        if self.type.uniform and not _is_device_array(array):
            self._array = uniform_value(self.type.element, array, f"{self.module}.{self.name} ({self.where})")
            return
        dtype = getattr(array, "dtype", None)
        if dtype is None or np.dtype(dtype).base != self.type.dtype.base:
            raise TypeError(f"{self.module}.{self.name} is declared as {self.type.name} (at {self.where}); "
                            f"cannot bind an array of dtype {dtype}")
        self._array = array

    @property
    def is_bound(self):
        """Whether :meth:`bind` has given this declaration an array or value."""
        return self._array is not None

    @property
    def bound(self):
        """The array bound with :meth:`bind`; a ``LegionellaError`` saying what to do when there is none."""
        if self._array is None:
            raise LegionellaError(f"no array is bound to {self.module}.{self.name} (set {self.set}, binding "
                                  f"{self.binding}, declared at {self.where}); call "
                                  f"{self.module}.{self.name}.bind(array) before launching a kernel that uses it")
        return self._array

    def __repr__(self):
        return (f"<legionella.BindingDecl {self.module}.{self.name}: {self.type.name} set={self.set} "
                f"binding={self.binding}>")


def _is_device_array(value):
    runtime = sys.modules.get("legionella.runtime")
    return runtime is not None and isinstance(value, runtime.Array)


def uniform_value(element, value, where):
    """``value`` as a one-element numpy array of ``element`` (the lang type of a ``Uniform[T]``).

    ``value`` is a dataclass instance (of ``T``), a numpy structured scalar or one-element array of
    ``T``'s dtype, or for a scalar or vector ``T`` a number or a sequence of its components.

    >>> uniform_value(vec2, (1, 2), "X")                                 # doctest: +SKIP
    array([[1., 2.]], dtype=float32)
    """
    dtype = np.dtype(element.dtype)
    if isinstance(value, (np.ndarray, np.void)) and value.dtype in (dtype, dtype.base) and value.nbytes == dtype.itemsize:
        return np.frombuffer(np.ascontiguousarray(value).tobytes(), dtype=dtype).copy()
    out = np.zeros(1, dtype)
    try:
        if isinstance(element, StructType):
            if not isinstance(value, element.cls):
                raise TypeError
            for name, _ in element.fields:
                out[name][0] = np.asarray(getattr(value, name))
        else:
            out[0] = np.asarray(value)
    except (TypeError, ValueError):
        raise TypeError(f"{where} is a Uniform[{element.name}]: got {value!r}; bind a {element.name} value or an "
                        f"lg.Array of one {element.name} ({dtype})") from None
    return out


def register(decl):
    """Record ``decl`` for its (set, binding); a different declaration already there is a MarkerError."""
    key = (decl.set, decl.binding)
    other = _declarations.get(key)
    if other is not None and (other.module, other.name) != (decl.module, decl.name):
        raise MarkerError(f"set={decl.set} binding={decl.binding} is declared twice: {other.module}.{other.name} "
                          f"at {other.where} and {decl.module}.{decl.name} here; give one of them other numbers",
                          filename=decl.filename, lineno=decl.lineno)
    for stale in [k for k, d in _declarations.items() if (d.module, d.name) == (decl.module, decl.name)]:
        del _declarations[stale]  # a reload that renumbered the declaration
    _declarations[key] = decl


def declaration(descriptor_set, binding):
    """The :class:`BindingDecl` for (set, binding), or None: how the runtime finds what to bind."""
    return _declarations.get((descriptor_set, binding))


def declarations():
    """Every binding declared in this process, ordered by (set, binding)."""
    return [decl for _, decl in sorted(_declarations.items())]
