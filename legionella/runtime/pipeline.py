"""Pipelines, their layouts and descriptor sets, each created once and cached on the device.

A layout depends only on its descriptor sets' bindings (for most kernels: the number of storage buffers
in set 0) and the push-constant size, so kernels with the same signature share it. Descriptor sets are
cached per layout by the buffer ranges they point at: ``(VkBuffer, offset, range)`` tuples, which stay
valid however often arrays come and go. A kernel with ``# legionella: binding`` globals may use several
sets (and uniform buffers); its cached entry is then the array of all its sets, bound together.
"""
from . import _vk

SETS_PER_POOL = 256
MAX_CACHED_SETS = 4096


def storage_sets(count):
    """The set bindings of the launch ABI's parameters: ``count`` storage buffers in set 0."""
    return (tuple((i, False) for i in range(count)),)


def _descriptor_type(uniform):
    vk = _vk.vk
    return vk.VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER if uniform else vk.VK_DESCRIPTOR_TYPE_STORAGE_BUFFER


class Layout:
    """Descriptor-set layouts and the pipeline layout around them.

    ``sets`` is a number of storage buffers in set 0 (the launch ABI), or, per set index from 0, a tuple
    of ``(binding, uniform)`` pairs (an empty tuple for a set nothing uses); :meth:`descriptor_set` takes
    one buffer range per binding, in that order."""

    def __init__(self, device, sets, push_size):
        vk = _vk.vk
        self.device = device
        self.sets_spec = storage_sets(sets) if isinstance(sets, int) else sets
        self.slots = [(k, binding, uniform) for k, entries in enumerate(self.sets_spec)
                      for binding, uniform in entries]
        self.bindings = len(self.slots)
        self.push_size = push_size
        self.set_layouts = [self._set_layout(entries) for entries in self.sets_spec]
        ranges = [vk.VkPushConstantRange(stageFlags=vk.VK_SHADER_STAGE_COMPUTE_BIT, offset=0, size=push_size)]
        set_layouts = self.set_layouts
        layout_info = vk.VkPipelineLayoutCreateInfo(setLayoutCount=len(set_layouts), pSetLayouts=set_layouts,
                                                    pushConstantRangeCount=1 if push_size else 0,
                                                    pPushConstantRanges=ranges if push_size else None)
        self.handle = _vk.call("vkCreatePipelineLayout", vk.vkCreatePipelineLayout, device.handle, layout_info, None)
        self.pools = []
        self.sets = {}  # tuple of (buffer, offset, range) -> VkDescriptorSet[1] (ready for vkCmdBindDescriptorSets)
        self._room = 0  # sets left in the newest pool

    def _set_layout(self, entries):
        vk = _vk.vk
        layout_bindings = [vk.VkDescriptorSetLayoutBinding(
            binding=binding, descriptorType=_descriptor_type(uniform), descriptorCount=1,
            stageFlags=vk.VK_SHADER_STAGE_COMPUTE_BIT) for binding, uniform in entries]
        set_info = vk.VkDescriptorSetLayoutCreateInfo(bindingCount=len(entries), pBindings=layout_bindings or None)
        return _vk.call("vkCreateDescriptorSetLayout", vk.vkCreateDescriptorSetLayout, self.device.handle,
                        set_info, None)

    def descriptor_set(self, ranges):
        """The ``VkDescriptorSet[n]`` (one per set) binding ``ranges`` (``(VkBuffer, offset, range)`` per
        binding, in the layout's order), or None when the layout has no bindings."""
        if not self.bindings:
            return None
        p_set = self.sets.get(ranges)
        if p_set is None:
            p_set = self._write_set(ranges)
            self.sets[ranges] = p_set
        return p_set

    def forget_buffer(self, buffer):
        """Drop the cached sets that point into ``buffer``, which is being destroyed: the driver may give
        a later buffer the same handle, and those sets must not be taken for its."""
        self.sets = {ranges: p_set for ranges, p_set in self.sets.items() if all(r[0] != buffer for r in ranges)}

    def _write_set(self, ranges):
        vk = _vk.vk
        if len(self.sets) >= MAX_CACHED_SETS and self.device.stream.sets_unused:
            self._reset_pools()
        if self._room == 0:
            self._add_pool()
        set_layouts = self.set_layouts
        alloc = vk.VkDescriptorSetAllocateInfo(descriptorPool=self.pools[-1], descriptorSetCount=len(set_layouts),
                                               pSetLayouts=set_layouts)
        handles = _vk.call("vkAllocateDescriptorSets", vk.vkAllocateDescriptorSets, self.device.handle, alloc)
        self._room -= 1
        infos = [vk.VkDescriptorBufferInfo(buffer=b, offset=o, range=r) for b, o, r in ranges]
        writes = [vk.VkWriteDescriptorSet(dstSet=handles[k], dstBinding=binding, descriptorCount=1,
                                          descriptorType=_descriptor_type(uniform), pBufferInfo=[info])
                  for (k, binding, uniform), info in zip(self.slots, infos)]
        vk.vkUpdateDescriptorSets(self.device.handle, len(writes), writes, 0, None)
        p_set = _vk.ffi.new(f"VkDescriptorSet[{len(handles)}]")
        for k, handle in enumerate(handles):
            p_set[k] = handle
        return p_set

    def _add_pool(self):
        vk = _vk.vk
        # A pool holds SETS_PER_POOL entries of this layout, each one set per set index.
        counts = {}
        for _, _, uniform in self.slots:
            counts[uniform] = counts.get(uniform, 0) + SETS_PER_POOL
        sizes = [vk.VkDescriptorPoolSize(type=_descriptor_type(uniform), descriptorCount=n)
                 for uniform, n in counts.items()]
        info = vk.VkDescriptorPoolCreateInfo(maxSets=SETS_PER_POOL * len(self.set_layouts), poolSizeCount=len(sizes),
                                             pPoolSizes=sizes)
        self.pools.append(_vk.call("vkCreateDescriptorPool", vk.vkCreateDescriptorPool, self.device.handle,
                                   info, None))
        self._room = SETS_PER_POOL

    def _reset_pools(self):
        """Drop every cached set; only called when no submitted or open work can still use one."""
        self.device.stream.forget_recordings()
        first, *rest = self.pools
        for pool in rest:
            _vk.vk.vkDestroyDescriptorPool(self.device.handle, pool, None)
        _vk.call("vkResetDescriptorPool", _vk.vk.vkResetDescriptorPool, self.device.handle, first, 0)
        self.pools = [first]
        self.sets.clear()
        self._room = SETS_PER_POOL


def create_pipeline(device, layout, spirv, entry_point):
    """A compute pipeline for ``spirv`` with ``layout``, through the device's pipeline cache."""
    vk = _vk.vk
    module_info = vk.VkShaderModuleCreateInfo(codeSize=len(spirv), pCode=spirv)
    module = _vk.call("vkCreateShaderModule", vk.vkCreateShaderModule, device.handle, module_info, None)
    try:
        # Every nested struct and string stays referenced until the call returns (DESIGN section 3).
        name = entry_point
        stage = vk.VkPipelineShaderStageCreateInfo(stage=vk.VK_SHADER_STAGE_COMPUTE_BIT, module=module, pName=name)
        info = vk.VkComputePipelineCreateInfo(stage=stage, layout=layout.handle)
        infos = [info]
        pipelines = _vk.call("vkCreateComputePipelines", vk.vkCreateComputePipelines, device.handle,
                             device.pipeline_cache, 1, infos, None)
    finally:
        vk.vkDestroyShaderModule(device.handle, module, None)
    return pipelines[0]
