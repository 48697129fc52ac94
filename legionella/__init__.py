"""Legionella: single-source GPU programming in Python, compiled to SPIR-V and run through Vulkan.

>>> import legionella as lg
>>> a = lg.zeros(8, dtype="float32")        # doctest: +SKIP

The host API (arrays, devices, launches) lives in :mod:`legionella.runtime` and is loaded on first use,
so ``import legionella`` and ``import legionella.lang`` stay cheap and need no Vulkan.
"""
__version__ = "0.1.0"

from .errors import (CompileError, DeviceError, DeviceLostError, LegionellaError, MarkerError,  # noqa: F401
                     OutOfMemoryError)
from .kernel import Kernel, kernel  # noqa: F401
from .lang import *  # noqa: F401,F403

_RUNTIME_NAMES = ("Array", "array", "zeros", "empty", "full", "devices", "device", "set_device", "use_device",
                  "synchronize", "stats")


def __getattr__(name):
    if name in _RUNTIME_NAMES:
        from . import runtime
        # Kept as a module attribute, so later uses (lg.synchronize() in a loop) skip this function.
        value = globals()[name] = getattr(runtime, name)
        return value
    raise AttributeError(f"module 'legionella' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_RUNTIME_NAMES))
