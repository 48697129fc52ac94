"""Device time of enqueued work, from GPU timestamps (``vkCmdWriteTimestamp``).

Wall time around a launch on a GPU measures the launch path as much as the kernel; timestamps written by
the device before and after the work measure the kernel alone. Used by the benchmarks.

>>> import legionella as lg
>>> from legionella.runtime.timing import device_time
>>> seconds = device_time(lambda: saxpy[n](2.0, x, y), repeat=10)    # doctest: +SKIP
"""
from . import _vk
from .vkdevice import device as current_device

QUERY_TYPE_TIMESTAMP = 2
QUERY_RESULT_64_WAIT = 0x1 | 0x2  # VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT


def device_time(enqueue, repeat=1, device=None):
    """Seconds of device time per call of ``enqueue()`` (which launches work), averaged over ``repeat``
    back-to-back calls; raises ``ValueError`` on a queue that cannot write timestamps."""
    device = device or current_device()
    device.open()
    if device.info.limits["timestampPeriod"] == 0:
        raise ValueError(f"{device.name} cannot write timestamps on its compute queue")
    ffi, lib, vk = _vk.ffi, _vk.lib, _vk.vk
    info = ffi.new("VkQueryPoolCreateInfo*", {"sType": vk.VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
                                               "queryType": QUERY_TYPE_TIMESTAMP, "queryCount": 2})
    p_pool = ffi.new("VkQueryPool*")
    _vk.check(lib.vkCreateQueryPool(device.handle, info, ffi.NULL, p_pool), "vkCreateQueryPool")
    try:
        with device.lock:
            device.stream.timestamp(p_pool[0], 0)
        for _ in range(repeat):
            enqueue()
        with device.lock:
            device.stream.timestamp(p_pool[0], 1)
            device.stream.synchronize()
        ticks = ffi.new("uint64_t[2]")
        _vk.check(lib.vkGetQueryPoolResults(device.handle, p_pool[0], 0, 2, ffi.sizeof(ticks), ticks, 8,
                                            QUERY_RESULT_64_WAIT), "vkGetQueryPoolResults")
        return (ticks[1] - ticks[0]) * device.info.limits["timestampPeriod"] * 1e-9 / repeat
    finally:
        lib.vkDestroyQueryPool(device.handle, p_pool[0], ffi.NULL)
