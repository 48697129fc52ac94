"""The Vulkan runtime: devices, arrays, launches and caches (DESIGN section 2.4).

>>> import numpy as np, legionella as lg
>>> x = lg.array(np.arange(8, dtype=np.float32))    # doctest: +SKIP
>>> lg.synchronize()                                 # doctest: +SKIP
"""
from .aot import build_modules, disassemble_target  # noqa: F401
from .array import Array, array, empty, full, zeros  # noqa: F401
from .cache import cache_command  # noqa: F401
from .describe import describe_devices  # noqa: F401
from .vkdevice import Device, device, devices, has_current_device, set_device, use_device  # noqa: F401
from .dispatch import dispatch_spirv  # noqa: F401
from .launch import Launch  # noqa: F401
from .counters import stats  # noqa: F401


def synchronize():
    """Wait until the current device has finished every launch enqueued so far."""
    device().synchronize()
