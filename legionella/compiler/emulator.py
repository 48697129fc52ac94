"""``kernel.emulate[grid](*args)``: run a kernel's Python function over a grid on the host.

This is the reference every differential test compares the device against, so it gives the kernel
language's semantics by construction rather than by imitation:

* values are numpy scalars, so integers wrap and promotion follows numpy (the device follows the same
  rules); numpy's overflow warnings are silenced inside the emulation only; ``math`` functions give the
  device's IEEE results (``log(0.0)`` is ``-inf``: :mod:`.emulated_math`);
* index-like values are ``i32`` as on the device: the intrinsics return i32 components, and the
  function (with every plain-Python helper it reaches) runs with globals in which ``range`` and ``len``
  yield ``np.int32``, and buffers are :class:`BufferView` s whose ``shape`` holds ``np.int32``;
* the grid is rounded up to whole workgroups exactly like a launch, so a kernel that forgets its bounds
  check fails here too (buffer indices are checked: an out-of-range index is an ``IndexError`` naming
  the buffer and the invocation, where the device would read garbage).

The user's function is not changed: it is re-created from its code object with other globals, and with
the literals stored into literal-typed locals (``n = 0``, ``t = 0.5``) made numpy ``int32`` and ``float32``
as on the device, and those stored into annotated ones (``total: i64 = 0``) of the annotation's type
(:mod:`.emulated_literals`), so such locals wrap and round as they do there. Literals
anywhere else stay Python numbers until they meet a numpy value (numpy then types them as the device
does); a literal-only expression that is not stored in a local first (``out[i] = (1 << 30) * 4``) is
computed in Python's arbitrary precision.

Invocations of one workgroup run one after another (:func:`_run_workgroup`); :class:`Workgroup` holds
the state they share (``shared`` memory). Kernels that use ``barrier()`` or subgroup operations run each
workgroup cooperatively instead (:mod:`.cooperative`).

>>> import numpy as np, legionella as lg
>>> @lg.kernel(workgroup=(4,))
... def double(a: lg.Buffer[lg.i32]):
...     i = lg.global_id().x
...     if i < len(a):
...         a[i] *= 2
>>> a = np.arange(6, dtype=np.int32)
>>> double.emulate[6](a)
>>> a
array([ 0,  2,  4,  6,  8, 10], dtype=int32)
"""
import builtins
import inspect
import itertools
import math
import sys
import types

import numpy as np

from ..errors import CompileError
from ..kernel import normalize_grid
from . import emulated_bindings
from .emulated_elements import ElementVector, StructElement
from .entry import element_problem, param_error
from .resolve import kernel_source
from .emulated_math import EMULATED_MATH, IEEE_MATH
from .emulated_literals import emulated_code
from ..lang.binding import BindingDecl
from ..lang.invocation import Invocation, current
from ..lang.types import (BufferType, Matrix, MatrixType, ScalarType, StructType, Vector, VectorType,
                          as_lang_type)

MAX_GRID_RANK = 3


class Emulation:
    """``Emulation(kernel)[grid](*args)`` runs ``kernel.py_func`` once per invocation of the grid.

    Buffers (numpy arrays, or ``lg.Array`` which are copied back at the end) are modified in place;
    scalars are converted to their annotated type first. Returns None, like a launch.
    """

    def __init__(self, kernel):
        self.kernel = kernel

    def __getitem__(self, grid):
        return _EmulatedLaunch(self.kernel, normalize_grid(grid))

    def __call__(self, *args, **kwargs):
        name = self.kernel.__name__
        raise TypeError(f"kernel.emulate runs over a grid: write {name}.emulate[n](...) (n invocations, or a "
                        f"tuple of up to 3), as {name}[n](...) launches on the device")

    def __repr__(self):
        return f"<legionella emulation of {self.kernel.__name__}>"


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


_INDEX_TYPES = frozenset({int, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64})


def _in_range(index, size):
    """Whether ``index`` is an integer in ``[0, size)`` (a type-set lookup first: this is the hot path),
    or a Python ``int`` in ``[-size, 0)``.

    Only a literal index (``a[-1]``, a module constant) reaches a buffer as a Python ``int``: values computed
    at run time are numpy integers (the i32 intrinsics, ``range`` and literal-typed locals). The device
    counts a literal negative index from the end and leaves a negative run-time one undefined, so only
    the former is accepted here (numpy then counts it from the end)."""
    if type(index) is int:
        return -size <= index < size
    return (type(index) in _INDEX_TYPES or _is_int(index)) and 0 <= index < size


def _plain(value):
    """An index as a Python int for messages (``5``, not ``np.int32(5)``), anything else unchanged."""
    return int(value) if _is_int(value) else value


def _workgroup_of(kernel):
    """The workgroup size, padded to 3 ints: the compiler's choice, the very one the device uses."""
    from .resolve import choose_workgroup
    size = tuple(choose_workgroup(kernel))
    return size + (1,) * (MAX_GRID_RANK - len(size))


class _EmulatedLaunch:
    """The callable that ``Emulation[grid]`` returns."""

    def __init__(self, kernel, grid):
        self.kernel = kernel
        self.grid = grid

    def __call__(self, *args, **kwargs):
        kernel = self.kernel
        decls, named, kwargs = emulated_bindings.split_keywords(kernel, kwargs)
        bound = _bind_arguments(kernel, args, kwargs)
        views = emulated_bindings.views(kernel, decls, named, _buffer_argument, bound)
        function = _FunctionRewriter(views).function(kernel.py_func)
        workgroup = _workgroup_of(kernel)
        num_groups = tuple(-(-g // w) for g, w in zip(self.grid, workgroup))
        run, make_workgroup = _run_workgroup, Workgroup
        from . import cooperative  # barrier() and subgroup operations need the invocations to meet
        if cooperative.needs_cooperation(kernel):
            run, make_workgroup = cooperative.run_workgroup, cooperative.CooperativeWorkgroup
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            for group_id in _ids(num_groups):
                run(function, bound.values, make_workgroup(group_id, num_groups, workgroup))
        for write_back in bound.write_backs:
            write_back()


def _ids(counts):
    """Every (x, y, z) id below ``counts``, x fastest, like the device numbers invocations."""
    return [(x, y, z) for z, y, x in itertools.product(*(range(n) for n in reversed(counts)))]


class Workgroup:
    """What the invocations of one workgroup share: its ids and its ``shared`` memory.

    ``shared(dtype, shape)`` returns, for the n-th call an invocation makes, the n-th array of the
    workgroup, so every invocation that runs the same code sees the same arrays (in whatever order a
    scheduler interleaves them).
    """

    def __init__(self, group_id, num_groups, size):
        self.group_id = group_id
        self.num_groups = num_groups
        self.size = size
        self._shared = []

    def invocations(self):
        """An :class:`Invocation` for each local id, in the device's order."""
        gx, gy, gz = (g * s for g, s in zip(self.group_id, self.size))
        return [Invocation((gx + x, gy + y, gz + z), (x, y, z), self.group_id, self.num_groups, self.size,
                           workgroup=self)
                for x, y, z in _ids(self.size)]

    def shared(self, dtype, shape):
        """Workgroup memory: zero-filled on first request, then the same array for every invocation."""
        invocation = current("shared()")
        index = getattr(invocation, "shared_calls", 0)
        invocation.shared_calls = index + 1
        if index == len(self._shared):
            element = as_lang_type(dtype) or dtype
            host = np.zeros(shape, dtype=getattr(element, "dtype", element))
            self._shared.append(CompositeBufferView(host, "shared memory", element)
                                if isinstance(element, VectorType) else BufferView.of(host, "shared memory"))
        return self._shared[index]

    def barrier(self):
        """Only cooperative workgroups (:mod:`.cooperative`) can honour a barrier; this one runs its
        invocations one after another because the kernel's source shows no barrier()."""
        raise RuntimeError("barrier() was reached through a name kernel.emulate cannot see in the kernel's "
                           "source; call it as barrier() (imported from legionella.lang) in the kernel or "
                           "in a helper it calls")


def _run_workgroup(function, args, workgroup):
    """Run every invocation of ``workgroup`` to completion, one after another."""
    for invocation in workgroup.invocations():
        with invocation:
            try:
                function(*args)
            except Exception as e:
                e.add_note(f"in kernel.emulate, invocation global_id={invocation.global_id}")
                raise


# --- i32 index-like values ------------------------------------------------------------------------

def _i32_range(*args):
    """``range`` whose values are ``np.int32``, as ``for`` loop variables are on the device."""
    return map(np.int32, range(*args))


def _i32_len(obj):
    """``len`` as an ``np.int32``, as on the device."""
    return np.int32(len(obj))


_KERNEL_BUILTINS = {**builtins.__dict__, "range": _i32_range, "len": _i32_len}

# Code from these packages is not kernel code: it runs with the ordinary builtins.
_HOST_PACKAGES = frozenset({"numpy", "legionella"}) | frozenset(sys.stdlib_module_names)


def _is_kernel_code(module_name):
    return module_name is None or module_name.partition(".")[0] not in _HOST_PACKAGES


class _FunctionRewriter:
    """Re-creates functions (and the user functions and modules they reach) with kernel builtins.

    Each copy gets its own globals dict holding only the global names its code uses, and its own closure
    cells (for kernels and helpers defined inside functions), with user functions replaced by their
    copies and user modules by :class:`_ModuleProxy`; memoised, so mutual recursion terminates and each
    function is copied once per launch.
    """

    def __init__(self, bindings):
        self._copies = {}
        self._bindings = bindings  # BindingDecl -> its view for this launch (emulated_bindings.views)

    def function(self, fn):
        """The copy of ``fn`` that runs with ``_KERNEL_BUILTINS``."""
        if fn in self._copies:
            return self._copies[fn]
        namespace = {"__builtins__": _KERNEL_BUILTINS, "__name__": fn.__globals__.get("__name__")}
        cells = [types.CellType() for _ in fn.__closure__ or ()]
        copy = types.FunctionType(emulated_code(fn), namespace, fn.__name__, fn.__defaults__,
                                  tuple(cells) or None)
        copy.__kwdefaults__ = fn.__kwdefaults__
        copy.__qualname__ = fn.__qualname__
        self._copies[fn] = copy
        for name in _global_names(fn.__code__):
            if name in fn.__globals__:
                namespace[name] = self.value(fn.__globals__[name])
        for cell, original in zip(cells, fn.__closure__ or ()):
            try:
                cell.cell_contents = self.value(original.cell_contents)
            except ValueError:  # a variable of the enclosing function not assigned yet: stays empty
                pass
        return copy

    def value(self, value):
        """``value`` as kernel code should see it."""
        if isinstance(value, BindingDecl):
            return self._bindings[value]
        if isinstance(value, types.FunctionType) and _is_kernel_code(value.__module__):
            return self.function(value)
        if isinstance(value, types.ModuleType) and _is_kernel_code(value.__name__):
            return _ModuleProxy(value, self)
        if value is math:
            return EMULATED_MATH
        if isinstance(value, types.BuiltinFunctionType):  # from math import log
            return IEEE_MATH.get(value, value)
        return value


def _global_names(code):
    """Every name ``code`` and the code nested in it (inner functions, comprehensions) may look up."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names


class _ModuleProxy:
    """A user module seen from kernel code (``mod.helper(x)``): its functions come rewritten."""

    def __init__(self, module, rewriter):
        self._module = module
        self._rewriter = rewriter

    def __getattr__(self, name):
        value = self._rewriter.value(getattr(self._module, name))
        setattr(self, name, value)
        return value


# --- buffers --------------------------------------------------------------------------------------

class BufferView(np.ndarray):
    """A buffer as a kernel sees it: ``shape`` in ``np.int32``, indices checked against the shape.

    Indexing is numpy's, so elements are numpy scalars and stores convert as numpy does. ``name`` is
    the parameter's, for the out-of-range message.
    """

    name = "buffer"

    @classmethod
    def of(cls, host, name):
        """A view of ndarray ``host`` (writes go to it) named ``name``."""
        view = host.view(cls)
        view.name = name
        return view

    @property
    def shape(self):
        return tuple(map(np.int32, self._dims()))

    def _dims(self):
        return np.ndarray.shape.__get__(self)

    def _check(self, index):
        dims = self._dims()
        if type(index) is tuple:
            valid = len(index) == len(dims) and all(map(_in_range, index, dims))
        else:  # the common case, kept cheap: it runs for every element access
            valid = len(dims) == 1 and _in_range(index, dims[0])
        if not valid:
            shown = tuple(map(_plain, index)) if type(index) is tuple else _plain(index)
            raise IndexError(f"index {shown!r} is out of range for {self.name} of shape {tuple(dims)} "
                             f"(invocation global_id={current('indexing').global_id})")

    def __getitem__(self, index):
        self._check(index)
        return np.ndarray.__getitem__(self, index)

    def __setitem__(self, index, value):
        self._check(index)
        np.ndarray.__setitem__(self, index, value)


class StructBufferView(BufferView):
    """A ``Buffer[T]`` of a dataclass ``T``: its elements are :class:`.StructElement` s over the buffer."""

    element = None  # the StructType

    @classmethod
    def of(cls, host, name, element):
        """A view of the structured ndarray ``host`` named ``name``, of elements of StructType ``element``."""
        view = super().of(host, name)
        view.element = element
        return view

    def __getitem__(self, index):
        return StructElement(BufferView.__getitem__(self, index), self.element)


class CompositeBufferView:
    """A ``Buffer[vecN]`` or ``Buffer[matN]`` over a host array with trailing component axes (N for a
    vector; (N, N) for a matrix, whose ``[j]`` is column ``j``, the std430 layout): elements are
    :class:`.ElementVector` or :class:`Matrix` values, copies, as a kernel's ``v = a[i]`` is a value
    (an ElementVector writes the buffer for a component store written on ``a[i]`` itself).

    Not an ndarray subclass: numpy's own stores index the subclass and expect arrays back.
    """

    def __init__(self, host, name, element):
        value_class, axes = (ElementVector, 1) if isinstance(element, VectorType) else (Matrix, 2)
        self._host = host
        self._elements = BufferView.of(host[(...,) + (0,) * axes], name)
        self._element = element
        self._value_class = value_class

    @property
    def shape(self):
        return self._elements.shape

    def __len__(self):
        return len(self._host)

    def __getitem__(self, index):
        self._elements._check(index)
        return self._value_class(self._element, self._host[index])  # ElementVector or Matrix: a copy

    def __setitem__(self, index, value):
        self._elements._check(index)
        self._host[index] = value.data if isinstance(value, (Vector, Matrix)) else value


# --- arguments ------------------------------------------------------------------------------------

class _BoundArguments:
    """The values the function is called with and the copies to write back after the launch."""

    def __init__(self):
        self.values = []
        self.write_backs = []


def _bind_arguments(kernel, args, kwargs):
    """Check ``args`` against the kernel's annotations and convert them; errors are the runtime's
    (``TypeError`` naming the parameter, ``ValueError`` for an int that does not fit)."""
    fn = kernel.py_func
    signature = inspect.signature(fn)
    try:
        call = signature.bind(*args, **kwargs)
    except TypeError as e:
        names = ", ".join(signature.parameters)
        raise TypeError(f"kernel {kernel.__name__!r} takes {len(signature.parameters)} arguments ({names}): "
                        f"{e}") from None
    call.apply_defaults()  # every parameter in order: the values below are passed by position
    annotations = inspect.get_annotations(fn, eval_str=True)
    bound = _BoundArguments()
    for name, value in call.arguments.items():
        if name not in annotations:
            raise CompileError(f"parameter {name!r} of kernel {kernel.__name__!r} has no annotation; "
                               f"annotate it, like {name}: f32 or {name}: Buffer[f32]",
                               filename=kernel.filename, lineno=kernel.lineno)
        lang_type = as_lang_type(annotations[name])
        if isinstance(lang_type, BufferType):
            _refuse_padded_elements(kernel, name, lang_type.element)
        where = f"kernel {kernel.__name__!r}, parameter {name!r} ({getattr(lang_type, 'name', lang_type)})"
        convert = _CONVERTERS.get(type(lang_type))
        if convert is None:
            raise TypeError(f"{where}: parameters of this type cannot be passed to a launch")
        bound.values.append(convert(name, where, lang_type, value, bound))
    return bound


def _refuse_padded_elements(kernel, name, element):
    """Raise the compiler's CompileError (same message, same place) for buffer parameter ``name`` when no
    host array can hold its elements (vec3, mat3: std430 pads them)."""
    problem = element_problem(element)
    if problem is not None:
        src = kernel_source(kernel)
        raise param_error(src, next(a for a in src.tree.args.args if a.arg == name), problem)


def _scalar_argument(name, where, scalar, value, bound):
    """A Python or numpy number as the annotated scalar type, checked as a device launch checks it."""
    return scalar(scalar.launch_value(value, where))


def _vector_argument(name, where, vector_type, value, bound):
    """A :class:`Vector`, or a sequence of its n numbers, checked as a device launch checks it."""
    return Vector(vector_type, vector_type.launch_value(value, where))


def _buffer_argument(name, where, buffer_type, value, bound):
    """A numpy array (used in place) or an ``lg.Array`` (read, then written back) as a buffer view."""
    host = value
    if _is_device_array(value):
        host = value.numpy()
        bound.write_backs.append(lambda: value.copy_from(host))
    elif not isinstance(value, np.ndarray):
        raise TypeError(f"{where}: got a {type(value).__name__}; pass a numpy array or an lg.Array")
    element = buffer_type.element
    shape = buffer_type.element_shape(host.dtype, host.shape)
    if shape is None:
        raise TypeError(f"{where}: got an array of {host.dtype} with shape {host.shape}; "
                        f"the kernel expects elements of {element.name} ({element.dtype})")
    if len(shape) != buffer_type.ndim:
        raise TypeError(f"{where}: got a {len(shape)}-D array (shape {host.shape}); the kernel expects "
                        f"{buffer_type.ndim}-D")
    if isinstance(element, (VectorType, MatrixType)):
        return CompositeBufferView(host, f"buffer {name!r}", element)
    if isinstance(element, StructType):
        return StructBufferView.of(host, f"buffer {name!r}", element)
    return BufferView.of(host, f"buffer {name!r}")


def _is_device_array(value):
    runtime = sys.modules.get("legionella.runtime")
    array_class = getattr(runtime, "Array", None)
    return array_class is not None and isinstance(value, array_class)


_CONVERTERS = {ScalarType: _scalar_argument, VectorType: _vector_argument, BufferType: _buffer_argument}
