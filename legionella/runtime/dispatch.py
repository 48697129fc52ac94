"""``dispatch_spirv``: run a SPIR-V compute module on numpy arrays, for tests of the SPIR-V emitter."""

import numpy as np

from .array import array
from .vkdevice import device as current_device


def dispatch_spirv(spirv_bytes, buffers, push_constants=b"", groups=(1, 1, 1), entry_point="main"):
    """Run ``spirv_bytes`` once and return the buffers read back, as new numpy arrays.

    Buffer ``i`` is bound as a storage buffer at set 0, binding ``i``; ``push_constants`` (bytes) are
    pushed at offset 0; ``groups`` workgroups are dispatched; the call waits for the device.

    >>> out, = dispatch_spirv(module, [np.zeros(64, np.float32)], groups=(1, 1, 1))   # doctest: +SKIP
    """
    device = current_device()
    groups = tuple(groups) + (1,) * (3 - len(tuple(groups)))
    limits = device.limits["maxComputeWorkGroupCount"]
    if any(g > m for g, m in zip(groups, limits)):
        raise ValueError(f"groups {groups} exceed this device's maxComputeWorkGroupCount {limits}")
    push = bytes(push_constants) + b"\0" * (-len(push_constants) % 4)
    arrays = [array(np.ascontiguousarray(b)) for b in buffers]
    device.refuse_reentry()
    with device.lock:
        pipeline, layout = device.pipeline(spirv_bytes, entry_point, len(arrays), len(push))
        bindings = tuple(a.binding for a in arrays)
        p_set = layout.descriptor_set(bindings)
        serial = device.stream.dispatch(pipeline, layout.handle, p_set, ((push, groups),), bindings, bindings)
        for a in arrays:
            a.serial = serial
    return [a.numpy() for a in arrays]
