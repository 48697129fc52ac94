"""``legionella devices``: the devices and what kernels can use on each, as text."""
import os

from ..errors import DeviceError
from . import _vk
from .vkdevice import default_device, devices, find_device

FEATURE_NAMES = (  # (label, DeviceInfo.features key or a Target attribute)
    ("f64", "shaderFloat64"), ("i64", "shaderInt64"), ("f16", "shaderFloat16"), ("i16", "shaderInt16"),
    ("float atomics", "shaderBufferFloat32AtomicAdd"), ("i64 atomics", "shaderBufferInt64Atomics"),
    ("timeline semaphores", "timelineSemaphore"),
)


def _describe(device, default):
    info = device.info
    marker = " (default)" if device is default else ""  # what lg.device() picks (LEGIONELLA_DEVICE counts)
    have = [label for label, key in FEATURE_NAMES if info.features.get(key)]
    lacks = [label for label, key in FEATURE_NAMES if not info.features.get(key)]
    return "\n".join([
        f"[{device.index}] {info.name}{marker}",
        f"    type: {info.type_name}; driver: {info.driver_name} {info.driver_info}; "
        f"Vulkan {'.'.join(map(str, info.api_version))}",
        f"    subgroup size: {info.subgroup_size}; subgroup ops: "
        f"{', '.join(sorted(info.subgroup_operations)) or 'none'}",
        f"    shared memory: {info.limits['maxComputeSharedMemorySize']:,} bytes per workgroup; "
        f"max storage buffer: {info.limits['maxStorageBufferRange']:,} bytes",
        f"    features: {', '.join(have) or 'none'}" + (f"; missing: {', '.join(lacks)}" if lacks else ""),
    ])


def describe_devices():
    """A text listing of every Vulkan device, or one sentence saying why there is none and how to fix it."""
    if _vk.vk is None:
        return f"Vulkan is not usable here: {_vk.LOAD_ERROR}; {_vk.INSTALL_HINT}."
    try:
        listed = devices()
    except DeviceError as e:  # its message may carry the install hint already
        hint = "" if _vk.INSTALL_HINT in str(e) else f"; {_vk.INSTALL_HINT}"
        return f"No usable Vulkan device ({e}){hint}."
    if not listed:
        return f"No Vulkan device found; {_vk.INSTALL_HINT}."
    lines = []
    choice = os.environ.get("LEGIONELLA_DEVICE", "").strip()
    try:
        default = find_device(choice, where="LEGIONELLA_DEVICE") if choice else default_device(listed)
    except DeviceError as e:
        default = default_device(listed)
        lines.append(f"warning: {e}")
    return "\n".join(lines + [_describe(d, default) for d in listed])
