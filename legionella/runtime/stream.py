"""The command stream of one device: an open command buffer that launches are recorded into, submitted
at sync points (or every ``MAX_COMMANDS`` commands), with fences to know what the device has finished.

Every recorded command gets the *serial* of its command buffer; ``completed`` is the highest serial the
device has finished. An array remembers the last serial that used it, so ``.numpy()``, ``copy_from`` and
freeing wait for exactly what they need. Hazards inside one command buffer are tracked per array and
resolved with a global memory barrier; each command buffer starts with one, which orders it after
everything submitted before it. This module calls ``lib`` directly with prebuilt structs: it is the hot path.
"""
import collections
import heapq
import itertools
import os
import time

from ..errors import DeviceLostError
from . import _vk, counters

MAX_COMMANDS = 256  # commands per command buffer before it is submitted without waiting
MAX_IN_FLIGHT = 4  # submitted command buffers before recording waits for the oldest
DEFAULT_TIMEOUT_S = 60.0
# How long a wait polls the fence before blocking, by VkPhysicalDeviceType. A CPU device (lavapipe)
# runs the work on the same cores, so polling there would only slow it down.
SPIN_S = {1: 200e-6, 2: 200e-6, 3: 200e-6}

STAGE_COMPUTE = 0x800
STAGE_TRANSFER = 0x1000
STAGE_HOST = 0x4000
STAGE_BOTTOM_OF_PIPE = 0x2000
ACCESS_SHADER_READ = 0x20
ACCESS_SHADER_WRITE = 0x40
ACCESS_TRANSFER_READ = 0x800
ACCESS_TRANSFER_WRITE = 0x1000
ACCESS_HOST_READ = 0x2000
ACCESS_HOST_WRITE = 0x4000
DEVICE_ACCESS = ACCESS_SHADER_READ | ACCESS_SHADER_WRITE | ACCESS_TRANSFER_READ | ACCESS_TRANSFER_WRITE
DEVICE_STAGES = STAGE_COMPUTE | STAGE_TRANSFER
BIND_POINT_COMPUTE = 1
SHADER_STAGE_COMPUTE = 0x20


def timeout_seconds():
    """``LEGIONELLA_TIMEOUT`` in seconds (default 60): how long a wait for the device may take."""
    try:
        return float(os.environ.get("LEGIONELLA_TIMEOUT", DEFAULT_TIMEOUT_S))
    except ValueError:
        raise ValueError(f"LEGIONELLA_TIMEOUT must be a number of seconds, got "
                         f"{os.environ['LEGIONELLA_TIMEOUT']!r}") from None


class Slot:
    """A command buffer, its fence and the prebuilt structs to begin and submit it."""

    def __init__(self, stream):
        ffi, lib, vk = _vk.ffi, _vk.lib, _vk.vk
        device = stream.device.handle
        allocate = ffi.new("VkCommandBufferAllocateInfo*", {
            "sType": vk.VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO, "commandPool": stream.pool,
            "level": vk.VK_COMMAND_BUFFER_LEVEL_PRIMARY, "commandBufferCount": 1})
        self.p_cmd = ffi.new("VkCommandBuffer[1]")
        _vk.check(lib.vkAllocateCommandBuffers(device, allocate, self.p_cmd), "vkAllocateCommandBuffers")
        self.cmd = self.p_cmd[0]
        fence_info = ffi.new("VkFenceCreateInfo*", {"sType": vk.VK_STRUCTURE_TYPE_FENCE_CREATE_INFO})
        self.p_fence = ffi.new("VkFence[1]")
        _vk.check(lib.vkCreateFence(device, fence_info, ffi.NULL, self.p_fence), "vkCreateFence")
        self.submit = ffi.new("VkSubmitInfo*", {"sType": vk.VK_STRUCTURE_TYPE_SUBMIT_INFO,
                                                "commandBufferCount": 1, "pCommandBuffers": self.p_cmd})
        self.serial = 0
        self.commands = 0


class Stream:
    """Records and submits the device's work; all methods run under the device's lock."""

    def __init__(self, device):
        ffi, lib, vk = _vk.ffi, _vk.lib, _vk.vk
        self.device = device
        pool_info = ffi.new("VkCommandPoolCreateInfo*", {
            "sType": vk.VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO, "queueFamilyIndex": device.queue_family,
            "flags": vk.VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT})
        p_pool = ffi.new("VkCommandPool*")
        _vk.check(lib.vkCreateCommandPool(device.handle, pool_info, ffi.NULL, p_pool), "vkCreateCommandPool")
        self.pool = p_pool[0]
        self.begin_info = ffi.new("VkCommandBufferBeginInfo*", {
            "sType": vk.VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
            "flags": vk.VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT})
        self.start_barrier = self._barrier(ACCESS_SHADER_WRITE | ACCESS_TRANSFER_WRITE | ACCESS_HOST_WRITE,
                                           DEVICE_ACCESS)
        self.device_barrier = self._barrier(ACCESS_SHADER_WRITE | ACCESS_TRANSFER_WRITE, DEVICE_ACCESS)
        self.host_barrier = self._barrier(ACCESS_SHADER_WRITE | ACCESS_TRANSFER_WRITE, ACCESS_HOST_READ)
        self.spin_s = SPIN_S.get(device.info.device_type, 0.0)
        self.spare = []
        self.in_flight = collections.deque()
        self.open = None
        self.serial = 0  # serial of the newest command buffer opened
        self.completed = 0  # highest serial the device has finished
        self.deferred = []  # heap of (serial, order, callback) run once serial completes
        self._order = itertools.count()
        self.written = set()  # arrays (by binding) written since the last barrier in the open command buffer
        self.read = set()
        self.bound_pipeline = self.bound_set = None  # what the open command buffer has bound last

    @staticmethod
    def _barrier(src, dst):
        return _vk.ffi.new("VkMemoryBarrier*", {"sType": _vk.vk.VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                                                "srcAccessMask": src, "dstAccessMask": dst})

    def _check(self, result, what):
        if result == -4:  # VK_ERROR_DEVICE_LOST: every later launch must refuse too
            self.device.mark_lost(f"{what} reported VK_ERROR_DEVICE_LOST")
            raise DeviceLostError(self.device.lost)
        _vk.check(result, what)

    def _begin(self):
        """The open slot, beginning a command buffer if none is open."""
        if self.open is not None:
            return self.open
        slot = self.spare.pop() if self.spare else Slot(self)
        self._check(_vk.lib.vkBeginCommandBuffer(slot.cmd, self.begin_info), "vkBeginCommandBuffer")
        # Order this command buffer after everything before it, and after host writes to mapped memory.
        _vk.lib.vkCmdPipelineBarrier(slot.cmd, DEVICE_STAGES | STAGE_HOST, DEVICE_STAGES, 0, 1,
                                     self.start_barrier, 0, _vk.ffi.NULL, 0, _vk.ffi.NULL)
        self.serial += 1
        slot.serial, slot.commands = self.serial, 0
        self.written.clear()
        self.read.clear()
        self.bound_pipeline = self.bound_set = None
        self.open = slot
        return slot

    def _resolve_hazards(self, cmd, reads, writes):
        """Insert a barrier when this command touches what an earlier one in the buffer wrote (or reads)."""
        written, read = self.written, self.read
        if (written and not written.isdisjoint(reads)) or (writes and (not written.isdisjoint(writes)
                                                                       or not read.isdisjoint(writes))):
            _vk.lib.vkCmdPipelineBarrier(cmd, DEVICE_STAGES, DEVICE_STAGES, 0, 1, self.device_barrier,
                                         0, _vk.ffi.NULL, 0, _vk.ffi.NULL)
            written.clear()
            read.clear()
        read.update(reads)
        written.update(writes)

    def dispatch(self, pipeline, layout, p_set, chunks, reads, writes):
        """Record one launch: ``chunks`` are ``(push_constant_cdata_or_None, size, (x, y, z))`` dispatches;
        ``reads`` and ``writes`` the arrays' hazard keys (their ``binding``). Returns the serial."""
        lib = _vk.lib
        slot = self.open or self._begin()
        cmd = slot.cmd
        self._resolve_hazards(cmd, reads, writes)
        # Bound state survives barriers and later dispatches within a command buffer: skip repeats.
        if pipeline is not self.bound_pipeline:
            lib.vkCmdBindPipeline(cmd, BIND_POINT_COMPUTE, pipeline)
            self.bound_pipeline = pipeline
        if p_set is not None and p_set is not self.bound_set:
            lib.vkCmdBindDescriptorSets(cmd, BIND_POINT_COMPUTE, layout, 0, len(p_set), p_set, 0, _vk.ffi.NULL)
            self.bound_set = p_set
        for push, size, (x, y, z) in chunks:
            if size:
                lib.vkCmdPushConstants(cmd, layout, SHADER_STAGE_COMPUTE, 0, size, push)
            lib.vkCmdDispatch(cmd, x, y, z)
        counters.bump_launch(len(chunks))
        return self._recorded(slot)

    def copy(self, src_buffer, src_offset, dst_buffer, dst_offset, size, reads, writes):
        """Record a buffer-to-buffer copy; returns its serial."""
        slot = self._begin()
        self._resolve_hazards(slot.cmd, reads, writes)
        region = _vk.ffi.new("VkBufferCopy*", {"srcOffset": src_offset, "dstOffset": dst_offset, "size": size})
        _vk.lib.vkCmdCopyBuffer(slot.cmd, src_buffer, dst_buffer, 1, region)
        return self._recorded(slot)

    def timestamp(self, query_pool, index):
        """Record a timestamp into ``query_pool[index]`` once all work recorded before it has finished."""
        slot = self._begin()
        _vk.lib.vkCmdResetQueryPool(slot.cmd, query_pool, index, 1)
        _vk.lib.vkCmdWriteTimestamp(slot.cmd, STAGE_BOTTOM_OF_PIPE, query_pool, index)
        return self._recorded(slot)

    def _recorded(self, slot):
        slot.commands += 1
        serial = slot.serial
        if slot.commands >= MAX_COMMANDS:
            self.flush()
        return serial

    def flush(self):
        """Submit the open command buffer, if any, without waiting for it."""
        slot = self.open
        if slot is None:
            return
        self.open = None
        lib = _vk.lib
        lib.vkCmdPipelineBarrier(slot.cmd, DEVICE_STAGES, STAGE_HOST, 0, 1, self.host_barrier, 0, _vk.ffi.NULL,
                                 0, _vk.ffi.NULL)
        self._check(lib.vkEndCommandBuffer(slot.cmd), "vkEndCommandBuffer")
        self._check(lib.vkQueueSubmit(self.device.queue, 1, slot.submit, slot.p_fence[0]), "vkQueueSubmit")
        self.in_flight.append(slot)
        counters.bump("submits")
        self._retire_finished()
        while len(self.in_flight) > MAX_IN_FLIGHT:
            self._wait_slot(self.in_flight[0])

    def _retire_finished(self):
        while self.in_flight and _vk.lib.vkGetFenceStatus(self.device.handle, self.in_flight[0].p_fence[0]) == 0:
            self._retire(self.in_flight.popleft())

    def _wait_slot(self, slot):
        timeout = timeout_seconds()
        result = self._spin(slot)
        if result != 0:
            result = _vk.lib.vkWaitForFences(self.device.handle, 1, slot.p_fence, 1, int(timeout * 1e9))
        if result == 2:  # VK_TIMEOUT: the work stays in flight; a later wait may still see it finish
            raise TimeoutError(f"{self.device.name} did not finish its work within {timeout:g} s "
                               "(LEGIONELLA_TIMEOUT); a kernel may loop forever, or raise LEGIONELLA_TIMEOUT")
        self._check(result, "vkWaitForFences")
        self._retire(self.in_flight.popleft())

    def _spin(self, slot):
        """Poll the fence for up to ``spin_s`` seconds; returns its last status (0 once signalled).

        A blocking fence wait on a GPU sleeps until an interrupt, which adds tens of microseconds to
        every short launch+sync; polling first catches short work at once, as CUDA's default does.
        """
        deadline = time.perf_counter() + self.spin_s
        status = _vk.lib.vkGetFenceStatus
        device, fence = self.device.handle, slot.p_fence[0]
        result = status(device, fence)
        while result == 1 and time.perf_counter() < deadline:  # 1: VK_NOT_READY
            result = status(device, fence)
        return result

    def _retire(self, slot):
        self._check(_vk.lib.vkResetFences(self.device.handle, 1, slot.p_fence), "vkResetFences")
        self.completed = slot.serial
        self.spare.append(slot)
        while self.deferred and self.deferred[0][0] <= self.completed:
            heapq.heappop(self.deferred)[2]()

    def wait(self, serial):
        """Return once the device has finished every command with a serial up to ``serial``."""
        if self.open is not None and self.open.serial <= serial:
            self.flush()
        while self.completed < serial and self.in_flight:
            self._wait_slot(self.in_flight[0])

    def synchronize(self):
        """Submit what is recorded and wait for all of it."""
        self.wait(self.serial)

    def after(self, serial, callback):
        """Run ``callback()`` once ``serial`` has completed (now, if it has)."""
        if serial <= self.completed:
            callback()
        else:
            heapq.heappush(self.deferred, (serial, next(self._order), callback))

    @property
    def sets_unused(self):
        """True when no descriptor set can be in use: nothing in flight, and the open command buffer (if
        any) has recorded no dispatch; copies (staging uploads on discrete GPUs) use none. Then cached
        descriptor sets may be recycled."""
        return not self.in_flight and (self.open is None or self.bound_set is None)
