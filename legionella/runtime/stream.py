"""The command stream of one device: launches and copies are recorded into an open command buffer, which
is submitted at sync points (or every ``MAX_COMMANDS`` commands); its completion (a timeline semaphore or
fences, runtime/completion.py) tells what the device has finished.

Every command gets the *serial* of its batch (one command buffer); ``completed`` is the highest serial the
device has finished. An array remembers the last serial that used it, so ``.numpy()``, ``copy_from`` and
freeing wait for exactly what they need. Hazards inside one command buffer are tracked per array and
resolved with a global memory barrier. A command buffer starts with one too when an earlier one may still
be running; when all earlier work has finished it needs none, since a queue submit already makes prior
host writes visible to the device.

Replay: the first ``REPLAY_COMMANDS`` commands of a batch are kept as data, not recorded. A batch that is
submitted that short (a launch then a sync, a launch and its read-back) is looked up among the recent
short batches; when an identical one was recorded before, its command buffer is submitted again without
recording anything, as a program that records once and submits many times would do. Recording, not
submitting, is most of a launch+sync's host time on a GPU. A recording names descriptor sets and buffers
by handle, so recordings are dropped when any memory block or descriptor pool they might name goes away.

This module calls ``lib`` directly with prebuilt structs: it is the hot path.
"""
import collections
import heapq
import itertools
import math
import os
import time

from ..errors import DeviceLostError
from . import _vk, counters
from .barriers import ACCESS_HOST_READ, DEVICE_ACCESS, DEVICE_STAGES, STAGE_HOST, barrier_recorder
from .completion import completion_for

MAX_COMMANDS = 256  # commands per command buffer before it is submitted without waiting
REPLAY_COMMANDS = 4  # commands of a batch kept as data, for replay (see the module docstring)
MAX_RECORDINGS = 16  # short batches' command buffers kept for replay
MAX_IN_FLIGHT = 4  # submitted command buffers before recording waits for the oldest
DEFAULT_TIMEOUT_S = 60.0
BLOCK_SLICE_S = 0.1  # a blocking wait returns this often, so Ctrl-C during a long kernel gets through
MAX_TIMEOUT_S = 2**63 / 1e9  # about 292 years: the wait takes nanoseconds as a uint64
# How long a wait polls for completion before blocking, by VkPhysicalDeviceType. A CPU device (lavapipe)
# runs the work on the same cores, so polling there would only slow it down.
SPIN_S = {1: 200e-6, 2: 200e-6, 3: 200e-6}

STAGE_BOTTOM_OF_PIPE = 0x2000
BIND_POINT_COMPUTE = 1
SHADER_STAGE_COMPUTE = 0x20


def timeout_seconds():
    """``LEGIONELLA_TIMEOUT`` in seconds (default 60): how long a wait for the device may take.

    Read when a device opens, so a bad value fails at once, and again at each wait that blocks, so a
    change at run time counts. Anything but a positive number (``abc``, ``-1``, ``0``, an empty string,
    ``nan``) is a ``ValueError``; ``inf``, or anything above ``MAX_TIMEOUT_S``, waits that long.
    """
    text = os.environ.get("LEGIONELLA_TIMEOUT")
    if text is None:
        return DEFAULT_TIMEOUT_S
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not seconds > 0:  # also refuses nan
        raise ValueError(f"LEGIONELLA_TIMEOUT must be a positive number of seconds, like LEGIONELLA_TIMEOUT=120 "
                         f"(or inf); got {text!r}")
    return min(seconds, MAX_TIMEOUT_S)


class Slot:
    """A command buffer and what the stream's completion needs to submit it and see it finish."""

    def __init__(self, stream):
        ffi, lib, vk = _vk.ffi, _vk.lib, _vk.vk
        device = stream.device.handle
        allocate = ffi.new("VkCommandBufferAllocateInfo*", {
            "sType": vk.VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO, "commandPool": stream.pool,
            "level": vk.VK_COMMAND_BUFFER_LEVEL_PRIMARY, "commandBufferCount": 1})
        self.p_cmd = ffi.new("VkCommandBuffer[1]")
        _vk.check(lib.vkAllocateCommandBuffers(device, allocate, self.p_cmd), "vkAllocateCommandBuffers")
        self.cmd = self.p_cmd[0]
        stream.completion.prepare(self)
        self.serial = 0
        self.commands = 0
        self.in_flight = False
        self.kept = False  # held in Stream.recordings for replay, so not a spare once retired


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
        # Not ONE_TIME_SUBMIT: any short batch's command buffer may be submitted again (replay).
        self.begin_info = ffi.new("VkCommandBufferBeginInfo*", {
            "sType": vk.VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO})
        self.device_barrier = barrier_recorder(device, DEVICE_STAGES, DEVICE_ACCESS)  # record(cmd)
        self.host_barrier = barrier_recorder(device, STAGE_HOST, ACCESS_HOST_READ)
        self.spin_s = SPIN_S.get(device.info.device_type, 0.0)
        self.completion = completion_for(device)
        self.spare = []
        self.in_flight = collections.deque()
        self.pending = None  # the open batch's commands not yet recorded, or None (see the module docstring)
        self.open = None  # the slot the open batch is being recorded into, or None
        self.recordings = {}  # short batch -> its recorded Slot, oldest first
        # Counted here, under the device's lock, rather than under a lock of their own: lg.stats() adds them up.
        self.launches = self.dispatches = self.submits = self.replays = 0
        counters.track(self)
        self.serial = 0  # serial of the newest batch opened
        self.completed = 0  # highest serial the device has finished
        self.deferred = []  # heap of (serial, order, callback) run once serial completes
        self._order = itertools.count()
        self.written = set()  # arrays (by binding) written since the last barrier in the open command buffer
        self.read = set()
        self.bound_pipeline = self.bound_set = None  # what the open command buffer has bound last
        self.pushed = (None, None)  # (layout, bytes) of the open command buffer's last push constants

    def _check(self, result, what):
        if result == -4:  # VK_ERROR_DEVICE_LOST: every later launch must refuse too
            self.device.mark_lost(f"{what} reported VK_ERROR_DEVICE_LOST")
            raise DeviceLostError(self.device.lost)
        _vk.check(result, what)

    # --- commands -----------------------------------------------------------------------------------------
    def dispatch(self, pipeline, layout, p_set, chunks, reads, writes):
        """Enqueue one launch: ``chunks`` are ``(push_constant_bytes, (x, y, z))`` dispatches; ``reads`` and
        ``writes`` tuples of the arrays' hazard keys (their ``binding``). Returns the serial."""
        self.launches += 1
        self.dispatches += len(chunks)
        slot = self.open
        if slot is None:
            return self._command((self._record_dispatch, pipeline, layout, p_set, chunks, reads, writes))
        self._record_dispatch(slot.cmd, pipeline, layout, p_set, chunks, reads, writes)  # _command's hot case
        return self._recorded(slot)

    def copy(self, src_buffer, src_offset, dst_buffer, dst_offset, size, reads, writes):
        """Enqueue a buffer-to-buffer copy; returns its serial."""
        return self._command((self._record_copy, src_buffer, src_offset, dst_buffer, dst_offset, size,
                              tuple(reads), tuple(writes)))

    def timestamp(self, query_pool, index):
        """Record a timestamp into ``query_pool[index]`` once all work recorded before it has finished.
        Never replayed: the query pool may be gone by the next identical batch."""
        slot = self._recording_slot()
        _vk.lib.vkCmdResetQueryPool(slot.cmd, query_pool, index, 1)
        _vk.lib.vkCmdWriteTimestamp(slot.cmd, STAGE_BOTTOM_OF_PIPE, query_pool, index)
        return self._recorded(slot)

    def _command(self, command):
        """Keep ``command`` (a record method and its arguments) for replay while the batch is short, else
        record it into the open command buffer."""
        slot = self.open
        if slot is None:
            pending = self.pending
            if pending is None:
                self.serial += 1
                pending = self.pending = []
            if len(pending) < REPLAY_COMMANDS:
                pending.append(command)
                return self.serial
            slot = self._recording_slot()
        command[0](slot.cmd, *command[1:])
        return self._recorded(slot)

    def _record_dispatch(self, cmd, pipeline, layout, p_set, chunks, reads, writes):
        lib = _vk.lib
        self._resolve_hazards(cmd, reads, writes)
        # Bound state survives barriers and later dispatches within a command buffer: skip repeats.
        if pipeline is not self.bound_pipeline:
            lib.vkCmdBindPipeline(cmd, BIND_POINT_COMPUTE, pipeline)
            self.bound_pipeline = pipeline
        if p_set is not None and p_set is not self.bound_set:
            lib.vkCmdBindDescriptorSets(cmd, BIND_POINT_COMPUTE, layout, 0, len(p_set), p_set, 0, _vk.ffi.NULL)
            self.bound_set = p_set
        for push, (x, y, z) in chunks:
            # Push constants stay set for later dispatches with the same layout: a launch repeating the
            # previous one's scalars and shapes (an iteration, a ping-pong between two arrays) pushes none.
            if push and (layout, push) != self.pushed:
                lib.vkCmdPushConstants(cmd, layout, SHADER_STAGE_COMPUTE, 0, len(push), push)
                self.pushed = (layout, push)
            lib.vkCmdDispatch(cmd, x, y, z)

    def _record_copy(self, cmd, src_buffer, src_offset, dst_buffer, dst_offset, size, reads, writes):
        self._resolve_hazards(cmd, reads, writes)
        region = _vk.ffi.new("VkBufferCopy*", {"srcOffset": src_offset, "dstOffset": dst_offset, "size": size})
        _vk.lib.vkCmdCopyBuffer(cmd, src_buffer, dst_buffer, 1, region)

    def _resolve_hazards(self, cmd, reads, writes):
        """Insert a barrier when this command touches what an earlier one in the buffer wrote (or reads)."""
        written, read = self.written, self.read
        if (written and not written.isdisjoint(reads)) or (writes and (not written.isdisjoint(writes)
                                                                       or not read.isdisjoint(writes))):
            self.device_barrier(cmd)
            written.clear()
            read.clear()
        read.update(reads)
        written.update(writes)

    def _recorded(self, slot):
        slot.commands += 1
        serial = slot.serial
        if slot.commands >= MAX_COMMANDS:
            self.flush()
        return serial

    # --- command buffers ------------------------------------------------------------------------------------
    def _recording_slot(self):
        """The slot the open batch is recorded into: begun now, with the batch's kept commands recorded, if
        the batch has none yet (a new batch is opened when none is)."""
        if self.open is not None:
            return self.open
        if self.pending is None:
            self.serial += 1
        pending, self.pending = self.pending or (), None
        slot = self._begin()
        for command in pending:
            command[0](slot.cmd, *command[1:])
        slot.commands = len(pending)
        self.open = slot
        return slot

    def _begin(self):
        """A spare (or new) slot for the open batch's serial, its command buffer begun."""
        slot = self.spare.pop() if self.spare else Slot(self)
        self._check(_vk.lib.vkBeginCommandBuffer(slot.cmd, self.begin_info), "vkBeginCommandBuffer")
        if self.in_flight:  # order this command buffer after earlier ones that may still be running
            self.device_barrier(slot.cmd)
        slot.serial, slot.commands = self.serial, 0
        self.written.clear()
        self.read.clear()
        self.bound_pipeline = self.bound_set = None
        self.pushed = (None, None)
        return slot

    def _end(self, slot):
        self.host_barrier(slot.cmd)
        self._check(_vk.lib.vkEndCommandBuffer(slot.cmd), "vkEndCommandBuffer")

    def _replayed_slot(self):
        """The ended command buffer of the open short batch: an earlier identical recording if one is idle,
        else a new recording, kept for next time."""
        # Whether earlier work is still in flight decides the starting barrier, so it is part of the key.
        key = (tuple(self.pending), bool(self.in_flight))
        slot = self.recordings.pop(key, None)
        if slot is not None and not slot.in_flight:
            self.recordings[key] = slot  # now the most recently used
            self.pending = None
            slot.serial = self.serial
            self.replays += 1
            return slot
        if slot is not None:  # still running from its last submit: record another
            slot.kept = False
        slot = self._recording_slot()
        self.open = None
        self._end(slot)
        slot.kept = True
        self.recordings[key] = slot
        if len(self.recordings) > MAX_RECORDINGS:
            self._drop_recording(next(iter(self.recordings)))
        return slot

    def _drop_recording(self, key):
        slot = self.recordings.pop(key)
        slot.kept = False
        if not slot.in_flight:
            self.spare.append(slot)

    def forget_recordings(self):
        """Drop every kept recording: a buffer or descriptor set one of them names is about to go away."""
        for key in list(self.recordings):
            self._drop_recording(key)

    def flush(self):
        """Submit the open batch, if any, without waiting for it."""
        if self.pending is None and self.open is None:
            return
        # Retire finished work first: its callbacks may free memory, which drops every recording, and the
        # command buffer about to be submitted must not be handed out as a spare meanwhile.
        self._retire_finished()
        if self.pending is not None:
            slot = self._replayed_slot()
        else:
            slot, self.open = self.open, None
            self._end(slot)
        self._check(self.completion.submit(slot), "vkQueueSubmit")
        slot.in_flight = True
        self.in_flight.append(slot)
        self.submits += 1
        while len(self.in_flight) > MAX_IN_FLIGHT:
            self._wait_slot(self.in_flight[0])

    # --- waiting ------------------------------------------------------------------------------------------
    def _retire_finished(self):
        while self.in_flight and self.completion.status(self.in_flight[0]) == 0:
            self._retire(self.in_flight.popleft())

    def _wait_slot(self, slot):
        result = self._spin(slot)
        if result != 0:
            timeout = timeout_seconds()
            deadline = time.monotonic() + timeout
            while True:  # in slices: Python handles signals (Ctrl-C) only between the slices' C calls
                left = deadline - time.monotonic()
                result = self.completion.block(slot, int(max(0.0, min(left, BLOCK_SLICE_S)) * 1e9))
                if result != 2 or left <= BLOCK_SLICE_S:
                    break
            if result == 2:  # VK_TIMEOUT: the work stays in flight; a later wait may still see it finish
                raise TimeoutError(f"{self.device.name} did not finish its work within {timeout:g} s "
                                   "(LEGIONELLA_TIMEOUT); a kernel may loop forever, or raise LEGIONELLA_TIMEOUT")
        self._check(result, "waiting for the device")
        self._retire(self.in_flight.popleft())

    def _spin(self, slot):
        """Poll the slot's status for up to ``spin_s`` seconds; returns the last one (0 once finished).

        A blocking wait on a GPU sleeps until an interrupt, which adds tens of microseconds to every
        short launch+sync; polling first catches short work at once, as CUDA's default does.
        """
        deadline = time.perf_counter() + self.spin_s
        status = self.completion.status
        result = status(slot)
        while result == 1 and time.perf_counter() < deadline:  # 1: VK_NOT_READY
            result = status(slot)
        return result

    def _retire(self, slot):
        slot.in_flight = False
        self.completed = slot.serial
        if not slot.kept:
            self.spare.append(slot)
        while self.deferred and self.deferred[0][0] <= self.completed:
            heapq.heappop(self.deferred)[2]()

    def wait(self, serial):
        """Return once the device has finished every command with a serial up to ``serial``."""
        if (self.pending is not None or self.open is not None) and serial >= self.serial:
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
        """True when no descriptor set can be in use: nothing in flight or kept for replay, and the open
        batch (if any) has no dispatch; copies (staging uploads on discrete GPUs) use none. Then cached
        descriptor sets may be recycled (after :meth:`forget_recordings`)."""
        return (not self.in_flight and not any(c[0] == self._record_dispatch for c in self.pending or ())
                and (self.open is None or self.bound_set is None))
