"""Pipelines, their layouts and descriptor sets, each created once and cached on the device.

A layout depends only on the number of storage buffers and the push-constant size, so kernels with the
same signature share it. Descriptor sets are cached per layout by the buffer ranges they point at:
``(VkBuffer, offset, range)`` tuples, which stay valid however often arrays come and go.
"""
from . import _vk

SETS_PER_POOL = 256
MAX_CACHED_SETS = 4096


class Layout:
    """A descriptor-set layout (``bindings`` storage buffers in set 0) and the pipeline layout around it."""

    def __init__(self, device, bindings, push_size):
        vk = _vk.vk
        self.device = device
        self.bindings = bindings
        self.push_size = push_size
        layout_bindings = [vk.VkDescriptorSetLayoutBinding(
            binding=i, descriptorType=vk.VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, descriptorCount=1,
            stageFlags=vk.VK_SHADER_STAGE_COMPUTE_BIT) for i in range(bindings)]
        set_info = vk.VkDescriptorSetLayoutCreateInfo(bindingCount=bindings, pBindings=layout_bindings or None)
        self.set_layout = _vk.call("vkCreateDescriptorSetLayout", vk.vkCreateDescriptorSetLayout,
                                   device.handle, set_info, None)
        ranges = [vk.VkPushConstantRange(stageFlags=vk.VK_SHADER_STAGE_COMPUTE_BIT, offset=0, size=push_size)]
        set_layouts = [self.set_layout]
        layout_info = vk.VkPipelineLayoutCreateInfo(setLayoutCount=1, pSetLayouts=set_layouts,
                                                    pushConstantRangeCount=1 if push_size else 0,
                                                    pPushConstantRanges=ranges if push_size else None)
        self.handle = _vk.call("vkCreatePipelineLayout", vk.vkCreatePipelineLayout, device.handle, layout_info, None)
        self.pools = []
        self.sets = {}  # tuple of (buffer, offset, range) -> VkDescriptorSet[1] (ready for vkCmdBindDescriptorSets)
        self._room = 0  # sets left in the newest pool

    def descriptor_set(self, ranges):
        """The ``VkDescriptorSet[1]`` binding ``ranges`` (``(VkBuffer, offset, range)`` per binding), or None."""
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
        set_layouts = [self.set_layout]
        alloc = vk.VkDescriptorSetAllocateInfo(descriptorPool=self.pools[-1], descriptorSetCount=1,
                                               pSetLayouts=set_layouts)
        handle = _vk.call("vkAllocateDescriptorSets", vk.vkAllocateDescriptorSets, self.device.handle, alloc)[0]
        self._room -= 1
        infos = [vk.VkDescriptorBufferInfo(buffer=b, offset=o, range=r) for b, o, r in ranges]
        writes = [vk.VkWriteDescriptorSet(dstSet=handle, dstBinding=i, descriptorCount=1,
                                          descriptorType=vk.VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, pBufferInfo=[info])
                  for i, info in enumerate(infos)]
        vk.vkUpdateDescriptorSets(self.device.handle, len(writes), writes, 0, None)
        p_set = _vk.ffi.new("VkDescriptorSet[1]")
        p_set[0] = handle
        return p_set

    def _add_pool(self):
        vk = _vk.vk
        sizes = [vk.VkDescriptorPoolSize(type=vk.VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                         descriptorCount=SETS_PER_POOL * self.bindings)]
        info = vk.VkDescriptorPoolCreateInfo(maxSets=SETS_PER_POOL, poolSizeCount=1, pPoolSizes=sizes)
        self.pools.append(_vk.call("vkCreateDescriptorPool", vk.vkCreateDescriptorPool, self.device.handle,
                                   info, None))
        self._room = SETS_PER_POOL

    def _reset_pools(self):
        """Drop every cached set; only called when no submitted or open work can still use one."""
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
