"""Global memory barriers, as functions ``record(cmd)`` built once per stream.

Where the device has synchronization2 a barrier is one ``vkCmdPipelineBarrier2`` call on a prebuilt
``VkDependencyInfo``: two arguments for cffi to convert instead of ``vkCmdPipelineBarrier``'s nine, which
halves a barrier's host cost (0.55 against 1.27 us on the H200's host, 0.25 against 0.70 on lavapipe). A
launch that reads what the previous one wrote records one barrier, so this is on the enqueue path.
"""
from . import _vk

STAGE_COMPUTE = 0x800  # VkPipelineStageFlagBits and VkPipelineStageFlagBits2 agree on these bits
STAGE_TRANSFER = 0x1000
STAGE_HOST = 0x4000
ACCESS_SHADER_READ = 0x20  # likewise VkAccessFlagBits and VkAccessFlagBits2
ACCESS_SHADER_WRITE = 0x40
ACCESS_TRANSFER_READ = 0x800
ACCESS_TRANSFER_WRITE = 0x1000
ACCESS_HOST_READ = 0x2000
DEVICE_STAGES = STAGE_COMPUTE | STAGE_TRANSFER
DEVICE_WRITES = ACCESS_SHADER_WRITE | ACCESS_TRANSFER_WRITE
DEVICE_ACCESS = ACCESS_SHADER_READ | ACCESS_SHADER_WRITE | ACCESS_TRANSFER_READ | ACCESS_TRANSFER_WRITE


def barrier_recorder(device, dst_stages, dst_access):
    """``record(cmd)``: make the device's compute and transfer writes recorded before it visible to
    ``dst_access`` in ``dst_stages`` after it."""
    ffi, vk = _vk.ffi, _vk.vk
    barrier2 = _barrier2_function(device)
    if barrier2 is not None:
        barrier = ffi.new("VkMemoryBarrier2*", {
            "sType": vk.VK_STRUCTURE_TYPE_MEMORY_BARRIER_2, "srcStageMask": DEVICE_STAGES,
            "srcAccessMask": DEVICE_WRITES, "dstStageMask": dst_stages, "dstAccessMask": dst_access})
        dependency = ffi.new("VkDependencyInfo*", {
            "sType": vk.VK_STRUCTURE_TYPE_DEPENDENCY_INFO, "memoryBarrierCount": 1, "pMemoryBarriers": barrier})

        def record(cmd, barrier=barrier):  # the default keeps the struct the dependency points to alive
            barrier2(cmd, dependency)
        return record

    barrier1, null = _vk.lib.vkCmdPipelineBarrier, ffi.NULL
    barrier = ffi.new("VkMemoryBarrier*", {"sType": vk.VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                                           "srcAccessMask": DEVICE_WRITES, "dstAccessMask": dst_access})

    def record(cmd):
        barrier1(cmd, DEVICE_STAGES, dst_stages, 0, 1, barrier, 0, null, 0, null)
    return record


def _barrier2_function(device):
    """``vkCmdPipelineBarrier2`` (or its KHR alias on a Vulkan 1.2 device) when synchronization2 is enabled,
    else None."""
    if not device.info.features.get("synchronization2"):
        return None
    name = b"vkCmdPipelineBarrier2" if device.info.api_version[:2] >= (1, 3) else b"vkCmdPipelineBarrier2KHR"
    pointer = _vk.lib.vkGetDeviceProcAddr(device.handle, name)
    return None if pointer == _vk.ffi.NULL else _vk.ffi.cast("PFN_vkCmdPipelineBarrier2", pointer)
