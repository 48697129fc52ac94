"""Device memory: large blocks, each one ``VkDeviceMemory`` with one ``VkBuffer`` over it, suballocated.

Arrays are ``(block, offset, size)`` ranges of a block's buffer, so creating an array costs no Vulkan
call once a block exists, and descriptor sets can be keyed by ``(buffer, offset, range)``. Free ranges
are kept sorted and coalesced (first fit). An empty block is returned to the driver, except one kept
in reserve (the last standard-size one) so an allocate/free loop does not thrash ``vkAllocateMemory``.
"""
import bisect
import dataclasses

from ..errors import OutOfMemoryError
from . import _vk

BLOCK_SIZE = 64 << 20
MIN_ALIGNMENT = 16  # vectorized element-wise kernels read every array as vec4s (16 bytes); launch.py checks

HOST_VISIBLE = 0x2  # VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT
HOST_COHERENT = 0x4
HOST_CACHED = 0x8
DEVICE_LOCAL = 0x1
BUFFER_USAGE = 0x1 | 0x2 | 0x10 | 0x20  # TRANSFER_SRC | TRANSFER_DST | UNIFORM_BUFFER (Uniform[T] bindings) | STORAGE_BUFFER


def _align(value, alignment):
    return -(-value // alignment) * alignment


def _fmt(nbytes):
    return f"{nbytes:,} bytes ({nbytes / 2**20:.1f} MiB)"


class Block:
    """One ``VkDeviceMemory`` allocation with a buffer spanning it, and its free ranges."""

    def __init__(self, device, size, memory_type, host_visible):
        vk = _vk.vk
        self.device = device
        self.size = size
        info = vk.VkBufferCreateInfo(size=size, usage=BUFFER_USAGE, sharingMode=vk.VK_SHARING_MODE_EXCLUSIVE)
        self.buffer = _vk.call("vkCreateBuffer", vk.vkCreateBuffer, device.handle, info, None)
        try:
            requirements = vk.vkGetBufferMemoryRequirements(device.handle, self.buffer)
            alloc = vk.VkMemoryAllocateInfo(allocationSize=requirements.size, memoryTypeIndex=memory_type)
            self.memory = _vk.call(f"vkAllocateMemory of {_fmt(size)}", vk.vkAllocateMemory, device.handle,
                                   alloc, None)
        except Exception:
            vk.vkDestroyBuffer(device.handle, self.buffer, None)
            raise
        _vk.call("vkBindBufferMemory", vk.vkBindBufferMemory, device.handle, self.buffer, self.memory, 0)
        self.mapped = None
        if host_visible:
            pointer = _vk.ffi.new("void**")
            _vk.check(_vk.lib.vkMapMemory(device.handle, self.memory, 0, size, 0, pointer), "vkMapMemory")
            self.mapped = _vk.ffi.buffer(pointer[0], size)
        self.free_ranges = [(0, size)]  # sorted (offset, size), never adjacent

    def allocate(self, size, alignment):
        """Carve ``size`` bytes at an ``alignment`` multiple; the offset, or None when nothing fits."""
        for i, (offset, length) in enumerate(self.free_ranges):
            start = _align(offset, alignment)
            if start + size <= offset + length:
                pieces = [(offset, start - offset), (start + size, offset + length - start - size)]
                self.free_ranges[i:i + 1] = [p for p in pieces if p[1] > 0]
                return start
        return None

    def free(self, offset, size):
        """Return a range, merging it with free neighbours."""
        i = bisect.bisect(self.free_ranges, (offset, size))
        if i < len(self.free_ranges) and self.free_ranges[i][0] == offset + size:
            size += self.free_ranges.pop(i)[1]
        if i > 0 and sum(self.free_ranges[i - 1]) == offset:
            offset, size = self.free_ranges[i - 1][0], self.free_ranges[i - 1][1] + size
            self.free_ranges.pop(i - 1)
            i -= 1
        self.free_ranges.insert(i, (offset, size))

    @property
    def empty(self):
        """True when no allocation is left in the block."""
        return self.free_ranges == [(0, self.size)]

    def destroy(self):
        """Unmap and free the memory and its buffer (nothing may use them any more)."""
        vk = _vk.vk
        if self.mapped is not None:
            vk.vkUnmapMemory(self.device.handle, self.memory)
            self.mapped = None
        vk.vkDestroyBuffer(self.device.handle, self.buffer, None)
        vk.vkFreeMemory(self.device.handle, self.memory, None)


@dataclasses.dataclass(eq=False)
class Allocation:
    """``size`` bytes at ``offset`` in ``block``'s buffer."""
    block: Block
    offset: int
    size: int

    def view(self, nbytes):
        """The mapped bytes (host-visible memory only)."""
        return memoryview(self.block.mapped)[self.offset:self.offset + nbytes]


class Allocator:
    """Suballocates one memory type; ``allocated`` is the device memory it holds, ``used`` what arrays use."""

    def __init__(self, device, memory_type, heap_size, host_visible, alignment):
        self.device = device
        self.memory_type = memory_type
        self.heap_size = heap_size
        self.host_visible = host_visible
        self.alignment = max(alignment, MIN_ALIGNMENT)
        self.blocks = []
        self.allocated = 0
        self.used = 0

    def allocate(self, nbytes):
        """An :class:`Allocation` of at least ``nbytes`` (at least one aligned unit, so zero-size arrays bind)."""
        size = _align(max(nbytes, 1), self.alignment)
        for block in self.blocks:
            offset = block.allocate(size, self.alignment)
            if offset is not None:
                self.used += size
                return Allocation(block, offset, size)
        block = self._new_block(max(BLOCK_SIZE, size), size)
        offset = block.allocate(size, self.alignment)
        self.used += size
        return Allocation(block, offset, size)

    def _new_block(self, block_size, asked):
        available = self.heap_size - self.allocated
        if block_size > available and asked <= available:
            block_size = asked  # the heap is nearly full: take only what the array needs
        if block_size > available:
            raise OutOfMemoryError(f"cannot allocate {_fmt(asked)} on {self.device.name}: {_fmt(available)} of "
                                   f"the {_fmt(self.heap_size)} memory heap are free; free arrays (del a) or use "
                                   f"smaller ones")
        try:
            block = Block(self.device, block_size, self.memory_type, self.host_visible)
        except OutOfMemoryError as e:
            raise OutOfMemoryError(f"cannot allocate {_fmt(asked)} on {self.device.name} ({e}); Legionella holds "
                                   f"{_fmt(self.allocated)} of the {_fmt(self.heap_size)} heap") from None
        self.blocks.append(block)
        self.allocated += block_size
        return block

    def free(self, allocation):
        """Give an allocation back; an emptied block goes back to the driver unless it is the last
        standard-size block (kept so a loop of small arrays does not call vkAllocateMemory each time)."""
        block = allocation.block
        block.free(allocation.offset, allocation.size)
        self.used -= allocation.size
        if block.empty and (len(self.blocks) > 1 or block.size != BLOCK_SIZE):
            self.blocks.remove(block)
            self.allocated -= block.size
            self.device.forget_buffer(block.buffer)
            block.destroy()


def choose_memory_type(info, host_visible, staging=False):
    """Index of the memory type for arrays or staging buffers, or None.

    Arrays: host-visible+coherent where the device shares memory with the host (preferring device-local
    types, then the largest heap), device-local otherwise. Staging: host-visible+coherent, preferring
    host-cached (fast host reads) and *not* device-local (on discrete GPUs that is the small, uncached
    BAR window).
    """
    want = HOST_VISIBLE | HOST_COHERENT if host_visible else DEVICE_LOCAL
    candidates = [i for i, (flags, _) in enumerate(info.memory_types) if flags & want == want]
    if not candidates:
        return None

    def preference(i):
        flags, heap = info.memory_types[i]
        local, cached = bool(flags & DEVICE_LOCAL), bool(flags & HOST_CACHED)
        first = (cached, not local) if staging else (local, cached)
        return (*first, info.memory_heaps[heap][0])

    return max(candidates, key=preference)
