"""Intrinsic functions of the kernel language, with their plain-Python (emulation) meaning.

The compiler recognises these objects by identity and emits SPIR-V for them; in plain Python they run
on numpy values, which is what ``kernel.emulate`` uses as the reference.
"""
import numpy as np

from .invocation import current
from .types import ivec3, Vector

__all__ = ["global_id", "local_id", "group_id", "num_groups", "workgroup_size",
           "fma", "clamp", "mix", "select", "dot", "cross", "length", "normalize"]


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
