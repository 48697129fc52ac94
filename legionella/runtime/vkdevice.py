"""A Vulkan device: the logical device, its queue, memory, command stream and caches.

:class:`Device` objects exist for every physical device as soon as :func:`devices` lists them; the
logical device is created on first use, so listing devices is cheap. Everything a device owns is
touched under its ``lock``, which makes launching from several threads safe.
"""
import collections
import hashlib
import contextlib
import os
import threading

import numpy as np

from ..errors import DeviceError, DeviceLostError
from . import _vk, cache, counters, features, instance, memory, pipeline
from .stream import Stream, timeout_seconds

FILL_CHUNK = 1 << 26  # bytes of staging memory lg.full and lg.zeros fill a device-local array through


class Device:
    """One Vulkan physical device, opened on first use.

    >>> import legionella as lg
    >>> d = lg.device()                 # doctest: +SKIP
    >>> d.name, d.type_name             # doctest: +SKIP
    ('llvmpipe (LLVM 15.0.6, 256 bits)', 'CPU')
    """

    def __init__(self, index, physical, info, *, host_visible=None):
        self.index = index
        self.physical = physical
        self.info = info
        self.name = info.name
        self.type_name = info.type_name
        self.limits = info.limits
        self.target = info.target()
        self.lock = threading.RLock()
        self.lost = None  # the message once the device is lost
        # Host-visible arrays where the device shares memory with the host; device-local + staging otherwise.
        self.host_visible = info.device_type != 2 if host_visible is None else host_visible
        self.handle = None
        self.opened = False  # set last by open(), so other threads never see a half-made device
        self.pending_releases = collections.deque()

    def __repr__(self):
        return f"<legionella.Device {self.index}: {self.name} ({self.type_name})>"

    def open(self):
        """Create the logical device and what it owns (once); returns self."""
        if not self.opened:
            with self.lock:
                if not self.opened:
                    self._create()
                    self.opened = True
        return self

    def _create(self):
        timeout_seconds()  # a bad LEGIONELLA_TIMEOUT is an error here, before anything is created, not at a long wait
        vk = _vk.vk
        self.queue_family = self._compute_queue_family()
        features2, keep_alive, extensions = features.enable_chain(self.info)
        priorities = [1.0]
        queue_info = vk.VkDeviceQueueCreateInfo(queueFamilyIndex=self.queue_family, queueCount=1,
                                                pQueuePriorities=priorities)
        queue_infos = [queue_info]
        create_info = vk.VkDeviceCreateInfo(pNext=features2, queueCreateInfoCount=1, pQueueCreateInfos=queue_infos,
                                            enabledExtensionCount=len(extensions),
                                            ppEnabledExtensionNames=extensions or None)
        handle = _vk.call(f"vkCreateDevice for {self.name}", vk.vkCreateDevice, self.physical, create_info, None)
        del keep_alive  # the chain had to live until vkCreateDevice returned
        self.queue = vk.vkGetDeviceQueue(handle, self.queue_family, 0)
        self.handle = handle
        self.array_memory = self._allocator(self.host_visible)
        self.staging_memory = None if self.host_visible else self._allocator(True, staging=True)
        self.stream = Stream(self)
        self.layouts = {}  # (bindings, push size) -> pipeline.Layout
        self.pipelines = {}  # (SPIR-V hash, entry point, bindings, push size) -> (VkPipeline, Layout)
        self.launchers = {}  # Kernel -> launch.Launcher (the object, not its id: see launch.Launch)
        self.disk_key = cache.device_key(self.info)
        self.pipeline_cache = self._create_pipeline_cache(cache.load_pipeline_cache(self.disk_key, self.info))

    def _compute_queue_family(self):
        families = _vk.vk.vkGetPhysicalDeviceQueueFamilyProperties(self.physical)
        for i, family in enumerate(families):
            if family.queueFlags & _vk.vk.VK_QUEUE_COMPUTE_BIT:
                return i
        raise DeviceError(f"{self.name} has no compute queue; choose another device with LEGIONELLA_DEVICE")

    def _allocator(self, host_visible, staging=False):
        type_index = memory.choose_memory_type(self.info, host_visible, staging)
        if type_index is None:
            raise DeviceError(f"{self.name} offers no {'host-visible' if host_visible else 'device-local'} memory")
        heap = self.info.memory_heaps[self.info.memory_types[type_index][1]][0]
        # Any array may be bound as a storage buffer or (for a Uniform binding) as a uniform buffer.
        alignment = max(self.limits["minStorageBufferOffsetAlignment"], self.limits["minUniformBufferOffsetAlignment"])
        return memory.Allocator(self, type_index, heap, host_visible, alignment)

    def _create_pipeline_cache(self, data):
        vk = _vk.vk
        initial = data or None
        info = vk.VkPipelineCacheCreateInfo(initialDataSize=len(data) if data else 0,
                                            pInitialData=_vk.ffi.from_buffer(initial) if initial else None)
        return _vk.call("vkCreatePipelineCache", vk.vkCreatePipelineCache, self.handle, info, None)

    def save_pipeline_cache(self):
        """Write the driver's pipeline-cache data to the disk cache."""
        ffi, lib = _vk.ffi, _vk.lib
        size = ffi.new("size_t*")
        _vk.check(lib.vkGetPipelineCacheData(self.handle, self.pipeline_cache, size, ffi.NULL),
                  "vkGetPipelineCacheData")
        data = ffi.new("char[]", size[0])
        _vk.check(lib.vkGetPipelineCacheData(self.handle, self.pipeline_cache, size, data), "vkGetPipelineCacheData")
        cache.store_pipeline_cache(self.disk_key, ffi.buffer(data, size[0])[:])

    # --- state -------------------------------------------------------------------------------------------
    def check_alive(self):
        """Raise :class:`DeviceLostError` when the device was lost earlier."""
        if self.lost is not None:
            raise DeviceLostError(self.lost)

    def mark_lost(self, cause):
        """Remember that the device is gone; every later launch or wait on it raises DeviceLostError."""
        self.lost = (f"{self.name} was lost ({cause}); its arrays and pending work are gone, and launches on it "
                     "raise this error; restart the process (or choose another device with lg.set_device)")

    def refuse_reentry(self):
        """Raise when this thread already holds the device's lock: a garbage-collector finalizer or a signal
        handler called into the runtime in the middle of one of its operations, which would corrupt the
        command stream. (``_is_owned`` is the RLock's own check, the one ``threading.Condition`` uses.)"""
        if self.lock._is_owned():
            raise RuntimeError(f"{self.name}: Legionella was called while this thread was inside one of its own "
                               "operations (from a __del__ finalizer run by the garbage collector, or a signal "
                               "handler); launch, synchronize and use arrays from ordinary code instead")

    def synchronize(self):
        """Submit the recorded work and wait until the device has finished it."""
        self.check_alive()
        self.refuse_reentry()
        with self.lock:
            self.stream.synchronize()
            self.collect()

    # --- layouts and pipelines ------------------------------------------------------------------------------
    def layout(self, bindings, push_size):
        """The cached :class:`pipeline.Layout` for ``bindings`` storage buffers and ``push_size`` bytes."""
        key = (bindings, push_size)
        layout = self.layouts.get(key)
        if layout is None:
            layout = self.layouts[key] = pipeline.Layout(self, bindings, push_size)
        return layout

    def pipeline(self, spirv, entry_point, bindings, push_size):
        """``(VkPipeline, Layout)`` for a module, created (through the pipeline cache) on first use.

        Keyed by the module's bytes, not by a kernel's id: a kernel whose helpers changed (a reloaded
        module) keeps its id but must get a new pipeline, and identical modules may share one."""
        key = (hashlib.sha256(spirv).digest(), entry_point, bindings, push_size)
        found = self.pipelines.get(key)
        if found is None:
            layout = self.layout(bindings, push_size)
            found = self.pipelines[key] = (pipeline.create_pipeline(self, layout, spirv, entry_point), layout)
            counters.bump("pipelines")
            self.save_pipeline_cache()
        return found

    def forget_buffer(self, buffer):
        """Called before a memory block's buffer is destroyed: no cached descriptor set or kept recording
        may outlive it."""
        self.stream.forget_recordings()
        for layout in self.layouts.values():
            layout.forget_buffer(buffer)

    # --- memory -------------------------------------------------------------------------------------------
    def allocate(self, nbytes):
        """Device memory for an array of ``nbytes``."""
        self.open()
        self.check_alive()
        self.refuse_reentry()
        with self.lock:
            self.collect()
            return self.array_memory.allocate(nbytes)

    def release(self, allocation, serial):
        """Free ``allocation`` once the work up to ``serial`` that may use it has finished.

        Called from ``Array.__del__``, which the garbage collector may run in the middle of any other
        operation, so it only queues the request; :meth:`collect` acts on it under the lock.
        """
        self.pending_releases.append((allocation, serial))

    def collect(self):
        """Act on queued releases (under the lock): free now, or once their last use completes."""
        free = self.array_memory.free
        while self.pending_releases:
            allocation, serial = self.pending_releases.popleft()
            self.stream.after(serial, lambda a=allocation: free(a))

    def memory_info(self):
        """``{"allocated": bytes held from the driver, "used": bytes in live arrays}`` for array memory."""
        self.open()
        self.refuse_reentry()
        with self.lock:
            self.collect()
            return {"allocated": self.array_memory.allocated, "used": self.array_memory.used}

    def write(self, array, data):
        """Copy the C-contiguous ndarray ``data`` (same byte size) into ``array``, in stream order."""
        raw = data.reshape(-1).view(np.uint8)
        self.refuse_reentry()
        with self.lock:
            if self.host_visible:
                self.stream.wait(array.serial)  # pending launches may still read the old contents
                np.frombuffer(array.allocation.view(array.nbytes), np.uint8)[:] = raw
                return
            stage = self.staging_memory.allocate(array.nbytes)
            np.frombuffer(stage.view(array.nbytes), np.uint8)[:] = raw
            dst = array.allocation
            serial = self.stream.copy(stage.block.buffer, stage.offset, dst.block.buffer, dst.offset,
                                      max(array.nbytes, 1), reads=(), writes=(array.binding,))
            array.serial = serial
            self.stream.after(serial, lambda: self.staging_memory.free(stage))

    def fill(self, array, value):
        """Set every element of ``array`` to ``value`` (a 0-d ndarray of its dtype), in stream order, through
        at most FILL_CHUNK bytes of host memory."""
        if array.nbytes == 0:
            return
        self.refuse_reentry()
        with self.lock:
            if self.host_visible:
                self.stream.wait(array.serial)
                np.frombuffer(array.allocation.view(array.nbytes), array.dtype)[:] = value
                return
            chunk = min(array.nbytes, FILL_CHUNK // array.dtype.itemsize * array.dtype.itemsize)
            stage = self.staging_memory.allocate(chunk)
            np.frombuffer(stage.view(chunk), array.dtype)[:] = value
            dst = array.allocation
            for start in range(0, array.nbytes, chunk):
                array.serial = self.stream.copy(stage.block.buffer, stage.offset, dst.block.buffer,
                                                dst.offset + start, min(chunk, array.nbytes - start),
                                                reads=(), writes=(array.binding,))
            self.stream.after(array.serial, lambda: self.staging_memory.free(stage))

    def read(self, array):
        """A new ndarray with ``array``'s contents, once the work that writes it has finished."""
        self.check_alive()
        out = np.empty(array.shape, array.dtype)
        self.refuse_reentry()
        with self.lock:
            if self.host_visible:
                self.stream.wait(array.serial)
                out.reshape(-1).view(np.uint8)[:] = np.frombuffer(array.allocation.view(array.nbytes), np.uint8)
                return out
            stage = self.staging_memory.allocate(array.nbytes)
            src = array.allocation
            serial = self.stream.copy(src.block.buffer, src.offset, stage.block.buffer, stage.offset,
                                      max(array.nbytes, 1), reads=(array.binding,), writes=())
            try:
                self.stream.wait(serial)
                out.reshape(-1).view(np.uint8)[:] = np.frombuffer(stage.view(array.nbytes), np.uint8)
            finally:
                self.stream.after(serial, lambda: self.staging_memory.free(stage))
        return out


# --- the device list and the current device ---------------------------------------------------------------
_lock = threading.Lock()
_devices = None


def devices():
    """Every Vulkan device, in the loader's order (``LEGIONELLA_DEVICE`` indexes this list).

    >>> import legionella as lg
    >>> [d.name for d in lg.devices()]   # doctest: +SKIP
    ['llvmpipe (LLVM 15.0.6, 256 bits)']
    """
    global _devices
    with _lock:
        if _devices is None:
            physicals = instance.get().physical_devices()
            _devices = [Device(i, p, features.read_device_info(p)) for i, p in enumerate(physicals)]
        return list(_devices)


def default_device(all_devices):
    """The preferred device: discrete GPU, then integrated, then virtual, then CPU (stable among equals)."""
    return min(all_devices, key=lambda d: (features.TYPE_PREFERENCE.get(d.info.device_type, 9), d.index))


def find_device(spec, where="set_device"):
    """A :class:`Device` from a Device, an index, or a name substring (case-insensitive)."""
    listed = devices()
    if not listed:
        raise DeviceError(f"no Vulkan device found; {_vk.INSTALL_HINT}")
    if isinstance(spec, Device):
        return spec
    if isinstance(spec, bool) or not isinstance(spec, (int, str, np.integer)):
        raise TypeError(f"{where}: pass a Device, a device index or a name substring, got {spec!r}")
    text = str(spec).strip()
    if text.lstrip("-").isdigit():
        index = int(text)
        if not 0 <= index < len(listed):
            raise DeviceError(f"{where}: device index {index} is out of range; there are {len(listed)} devices: "
                              + ", ".join(f"{d.index}: {d.name}" for d in listed))
        return listed[index]
    matches = [d for d in listed if text.lower() in d.name.lower()]
    if not matches:
        raise DeviceError(f"{where}: no device name contains {text!r}; the devices are: "
                          + ", ".join(f"{d.index}: {d.name}" for d in listed))
    return matches[0]


_current = None  # the process-wide current device (set_device, or the default on first use)
_local = threading.local()  # per-thread stack of use_device() overrides
_overrides = 0  # use_device() blocks open in any thread; while there are none, device() skips _local


def device():
    """The current device: the innermost ``use_device``, else ``set_device``'s, else ``LEGIONELLA_DEVICE``'s,
    else the preferred one (discrete GPU > integrated > virtual > CPU).

    >>> import legionella as lg
    >>> lg.device()                     # doctest: +SKIP
    <legionella.Device 0: llvmpipe (LLVM 15.0.6, 256 bits) (CPU)>
    """
    global _current
    if not _overrides and _current is not None:  # the common case, kept fast: every launch asks
        return _current
    stack = getattr(_local, "stack", None)
    if stack:
        return stack[-1]
    if _current is None:
        choice = os.environ.get("LEGIONELLA_DEVICE", "").strip()
        if choice:
            chosen = find_device(choice, where="LEGIONELLA_DEVICE")
        else:
            listed = devices()
            if not listed:
                raise DeviceError(f"no Vulkan device found; {_vk.INSTALL_HINT}")
            chosen = default_device(listed)
        _current = chosen.open()
    return _current


def has_current_device():
    """True when a device has been chosen or used already (so asking for it opens nothing new)."""
    return _current is not None or bool(getattr(_local, "stack", None))


def set_device(spec):
    """Make ``spec`` (a Device, an index or a name substring) the current device; returns it."""
    global _current
    _current = find_device(spec).open()
    return _current


@contextlib.contextmanager
def use_device(spec):
    """``with lg.use_device(1): ...`` launches and allocates on device 1 in this thread, inside the block."""
    global _overrides
    chosen = find_device(spec, where="use_device").open()
    stack = _local.__dict__.setdefault("stack", [])
    stack.append(chosen)
    with _lock:
        _overrides += 1
    try:
        yield chosen
    finally:
        stack.pop()
        with _lock:
            _overrides -= 1
