"""Intrinsic functions of the kernel language, with their plain-Python (emulation) meaning.

The compiler recognises these objects by identity and emits SPIR-V for them; in plain Python they run
on numpy values, which is what ``kernel.emulate`` uses as the reference.
"""
import threading

import numpy as np

from .invocation import current
from .types import ivec3, Matrix, scalar_of_dtype, uvec4, Vector

__all__ = ["global_id", "local_id", "group_id", "num_groups", "workgroup_size",
           "fma", "clamp", "mix", "select", "dot", "cross", "length", "normalize",
           "transpose", "determinant", "inverse",
           "shared", "barrier",
           "atomic_add", "atomic_min", "atomic_max", "atomic_and", "atomic_or", "atomic_xor", "atomic_exchange",
           "atomic_compare_exchange",
           "subgroup_add", "subgroup_min", "subgroup_max", "subgroup_broadcast", "subgroup_ballot", "subgroup_size"]


def global_id():
    """The invocation's index in the whole grid, as an ``ivec3`` (components are i32)."""
    return ivec3(*current("global_id()").global_id)


def local_id():
    """The invocation's index inside its workgroup (``ivec3``)."""
    return ivec3(*current("local_id()").local_id)


def group_id():
    """The workgroup's index in the grid (``ivec3``)."""
    return ivec3(*current("group_id()").group_id)


def num_groups():
    """The number of workgroups in the launch (``ivec3``)."""
    return ivec3(*current("num_groups()").num_groups)


def workgroup_size():
    """The workgroup size (``ivec3``)."""
    return ivec3(*current("workgroup_size()").workgroup_size)


def _data(x):
    return x.data if isinstance(x, Vector) else x


def _like(template, value):
    return Vector(template.type, value) if isinstance(template, Vector) else value


def fma(a, b, c):
    """``a * b + c`` (fused where the device fuses)."""
    return _like(a, _data(a) * _data(b) + _data(c))


def clamp(x, lo, hi):
    """``min(max(x, lo), hi)``."""
    return _like(x, np.minimum(np.maximum(_data(x), _data(lo)), _data(hi)))


def mix(a, b, t):
    """Linear interpolation ``a * (1 - t) + b * t``."""
    return _like(a, _data(a) * (1 - _data(t)) + _data(b) * _data(t))


def select(cond, a, b):
    """``a if cond else b`` evaluated without branching (both sides are computed)."""
    return a if cond else b


def dot(a, b):
    """Dot product of two vectors."""
    return np.dot(_data(a), _data(b))


def cross(a, b):
    """Cross product of two ``vec3``."""
    return Vector(a.type, np.cross(a.data, b.data))


def length(v):
    """Euclidean length of a vector."""
    return np.sqrt(np.dot(v.data, v.data))


def normalize(v):
    """``v / length(v)``."""
    return Vector(v.type, v.data / np.sqrt(np.dot(v.data, v.data)))


def transpose(m):
    """The transpose of a matrix (``OpTranspose``): column ``j`` of the result is row ``j`` of ``m``."""
    return Matrix(m.type, m.data.T)


def determinant(m):
    """The determinant of a matrix (GLSL ``Determinant``), an f32."""
    return np.linalg.det(m.data)


def inverse(m):
    """The inverse of a matrix (GLSL ``MatrixInverse``). A singular matrix has none: the device returns
    undefined values, the emulator raises numpy's ``LinAlgError``."""
    return Matrix(m.type, np.linalg.inv(m.math).T)


# --- workgroup memory and barriers ----------------------------------------------------------------
# Emulation: the emulator's workgroup object (``Invocation.workgroup``) holds the shared arrays and
# schedules the invocations of a workgroup so that barrier() and the subgroup operations meet.

def shared(dtype, shape):
    """Workgroup memory: ``tile = shared(f32, 256)`` or ``shared(f32, (16, 16))`` (1-D to 3-D), one array per
    workgroup, seen by all its invocations. Declare it at the kernel's top level; its contents start
    undefined on a device (the emulator zero-fills), so write before you read, then ``barrier()``."""
    return current("shared()").workgroup.shared(dtype, shape)


def barrier():
    """Wait until every invocation of the workgroup gets here; shared-memory writes made before it are
    visible to all of them after it. Every invocation must reach the same barrier() (never under a
    condition that depends on the invocation id)."""
    current("barrier()").workgroup.barrier()


# --- atomics --------------------------------------------------------------------------------------
# One lock for all emulated atomics: an update and the read of the old value happen as one step.
_ATOMIC_LOCK = threading.Lock()


def _atomic(buf, index, update, *values):
    scalar = scalar_of_dtype(buf.dtype)
    values = [scalar(v) for v in values]  # converted like a store into the element type
    with _ATOMIC_LOCK, np.errstate(over="ignore"):
        old = buf[index]
        buf[index] = update(old, *values)
    return old


def atomic_add(buf, index, value):
    """``buf[index] += value`` as one indivisible step; returns the old value (ints wrap)."""
    return _atomic(buf, index, lambda old, v: old + v, value)


def atomic_min(buf, index, value):
    """``buf[index] = min(buf[index], value)`` atomically; returns the old value."""
    return _atomic(buf, index, np.minimum, value)


def atomic_max(buf, index, value):
    """``buf[index] = max(buf[index], value)`` atomically; returns the old value."""
    return _atomic(buf, index, np.maximum, value)


def atomic_and(buf, index, value):
    """``buf[index] &= value`` atomically; returns the old value."""
    return _atomic(buf, index, np.bitwise_and, value)


def atomic_or(buf, index, value):
    """``buf[index] |= value`` atomically; returns the old value."""
    return _atomic(buf, index, np.bitwise_or, value)


def atomic_xor(buf, index, value):
    """``buf[index] ^= value`` atomically; returns the old value."""
    return _atomic(buf, index, np.bitwise_xor, value)


def atomic_exchange(buf, index, value):
    """Store ``value`` into ``buf[index]`` atomically; returns the old value."""
    return _atomic(buf, index, lambda old, v: v, value)


def atomic_compare_exchange(buf, index, compare, value):
    """Store ``value`` into ``buf[index]`` if it equals ``compare``, atomically; returns the old value
    (the store happened when it equals ``compare``)."""
    return _atomic(buf, index, lambda old, c, v: v if old == c else old, compare, value)


# --- subgroups ------------------------------------------------------------------------------------

def _typed(value):
    """A bare Python literal as the compiler types it on its own (bool, i32 or f32)."""
    if isinstance(value, bool):
        return np.bool_(value)
    if isinstance(value, int):
        return np.int32(value)
    return np.float32(value) if isinstance(value, float) else value


def subgroup_add(value):
    """The sum of ``value`` over the active invocations of the subgroup."""
    return current("subgroup_add()").workgroup.subgroup("add", _typed(value))


def subgroup_min(value):
    """The minimum of ``value`` over the active invocations of the subgroup."""
    return current("subgroup_min()").workgroup.subgroup("min", _typed(value))


def subgroup_max(value):
    """The maximum of ``value`` over the active invocations of the subgroup."""
    return current("subgroup_max()").workgroup.subgroup("max", _typed(value))


def subgroup_broadcast(value, lane):
    """``value`` as the invocation at index ``lane`` of the subgroup has it."""
    return current("subgroup_broadcast()").workgroup.subgroup("broadcast", _typed(value), lane)


def subgroup_ballot(cond):
    """A ``uvec4`` bit mask: bit k is set when ``cond`` holds in the subgroup's invocation k."""
    return Vector(uvec4, current("subgroup_ballot()").workgroup.subgroup("ballot", bool(cond)))


def subgroup_size():
    """The number of invocations in a subgroup (an ``i32``; 32 on NVIDIA, 8 on lavapipe)."""
    return np.int32(current("subgroup_size()").workgroup.subgroup_size)
