"""Arguments against a kernel's signature: checking them and packing them per the launch ABI.

Each parameter of a :class:`~legionella.compiler.artifact.CompiledKernel` becomes one *binder*, a
function ``(arg, push) -> Array or None`` that raises a ``TypeError`` naming the parameter when the
argument does not fit, writes the scalar or the buffer's shape into the push-constant bytes, and returns
the array to bind. Binders are built once per (kernel, device), so a launch only runs them.
"""
import struct
import weakref

import numpy as np

from ..errors import DeviceError
from ..lang.types import BufferType, ScalarType, VectorType
from .array import Array

# ScalarType (kind, bits) -> struct format; bool travels as a 32-bit word, as SPIR-V wants it.
SCALAR_FORMATS = {("f", 16): "<e", ("f", 32): "<f", ("f", 64): "<d", ("i", 32): "<i", ("u", 32): "<I",
                  ("i", 64): "<q", ("u", 64): "<Q", ("i", 16): "<h", ("u", 16): "<H", ("i", 8): "<b",
                  ("u", 8): "<B", ("b", 8): "<I"}
I32_MAX = 2**31 - 1


def _where(kernel_name, param):
    return f"kernel {kernel_name!r}, parameter {param.name!r} ({param.type.name})"


def scalar_binder(kernel_name, param):
    """Check a Python or numpy scalar against ``param.type`` and pack it at ``param.offset``."""
    scalar = param.type
    fmt = SCALAR_FORMATS[(scalar.kind, scalar.bits)]
    offset = param.offset
    where = _where(kernel_name, param)

    packer = struct.Struct(fmt)
    # The common arguments, by exact type: a Python float for a float parameter, an int in range for an
    # integer one. (launch_value's ABC checks cost more than the rest of a launch's Python work together.)
    fast_type = float if scalar.kind == "f" else int if scalar.kind in "iu" else None

    def bind(arg, push):
        if type(arg) is fast_type and (fast_type is float or scalar.fits(arg)):
            try:
                packer.pack_into(push, offset, arg)
                return None
            except OverflowError:  # a float beyond f32's range: launch_value says so
                pass
        packer.pack_into(push, offset, scalar.launch_value(arg, where))
        return None

    return bind


def vector_binder(kernel_name, param):
    """Check a vector argument (``lang`` Vector, tuple, list or ndarray of the right width) and pack it."""
    vtype = param.type
    where = _where(kernel_name, param)
    offset = param.offset

    def bind(arg, push):
        raw = vtype.launch_value(arg, where).tobytes()
        push[offset:offset + len(raw)] = raw
        return None

    return bind


def buffer_binder(kernel_name, param, device, where=None):
    """Check an :class:`Array` against ``Buffer[T, n]``, pack its shape, and return it for binding;
    ``where`` names the argument in errors (default: the parameter)."""
    btype = param.type
    where = where or _where(kernel_name, param)
    shape_format = struct.Struct(f"<{btype.ndim}i")
    shape_offset = param.shape_offset
    max_range = device.limits["maxStorageBufferRange"]
    # (weak reference to the last array accepted, its packed shape words): an array's shape, dtype and
    # device never change, so the same array passed again needs no new checks. One tuple, replaced whole,
    # so launches from several threads never see one array's reference with another's shape.
    accepted = [(None, b"")]

    def bind(arg, push):
        last, shape_words = accepted[0]
        if last is not None and last() is arg:
            if shape_offset >= 0:
                push[shape_offset:shape_offset + len(shape_words)] = shape_words
            return arg
        if type(arg) is not Array and not isinstance(arg, Array):
            hint = " (copy it to the device with lg.array(x))" if isinstance(arg, np.ndarray) else ""
            raise TypeError(f"{where}: got a {type(arg).__name__}{hint}; pass an lg.Array")
        shape = btype.element_shape(arg.dtype, arg.shape)
        if shape is None:
            raise TypeError(f"{where}: got an array of {arg.dtype} with shape {arg.shape}; "
                            f"the kernel expects elements of {btype.element.name} ({btype.element.dtype})")
        if len(shape) != btype.ndim:
            raise TypeError(f"{where}: got a {len(shape)}-D array (shape {arg.shape}); the kernel "
                            f"expects {btype.ndim}-D")
        if arg.device is not device:
            raise TypeError(f"{where}: the array lives on {arg.device.name}, the launch runs on {device.name}")
        if arg.nbytes > max_range:
            raise DeviceError(f"{where}: the array has {arg.nbytes:,} bytes, more than the {max_range:,} bytes "
                              f"(maxStorageBufferRange) {device.name} can bind; split it into smaller arrays")
        if any(n > I32_MAX for n in shape):
            raise ValueError(f"{where}: dimension sizes above {I32_MAX} are not supported (shape {arg.shape})")
        shape_words = shape_format.pack(*shape)
        if shape_offset >= 0:
            push[shape_offset:shape_offset + len(shape_words)] = shape_words
        accepted[0] = (weakref.ref(arg), shape_words)
        return arg

    return bind


def binders(kernel_name, compiled, device):
    """One binder per parameter of ``compiled``, in signature order."""
    out = []
    for param in compiled.params:
        if isinstance(param.type, BufferType) and not param.type.uniform:
            out.append(buffer_binder(kernel_name, param, device))
        elif isinstance(param.type, ScalarType):
            out.append(scalar_binder(kernel_name, param))
        elif isinstance(param.type, VectorType):
            out.append(vector_binder(kernel_name, param))
        else:
            raise TypeError(f"{_where(kernel_name, param)}: parameters of this type cannot be passed to a launch")
    return out
