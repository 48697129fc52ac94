"""What a physical device offers kernels: properties and optional features, read once, as plain data.

The optional features are a table: each row names the Vulkan feature struct, the extension that
provides it on devices older than the Vulkan version that promoted it, and the fields Legionella turns
on when the device has them. The same table builds the query chain and the enable chain.
"""
import dataclasses

from ..compiler.target import Target
from . import _vk


@dataclasses.dataclass(frozen=True)
class FeatureStruct:
    """One row of OPTIONAL_FEATURES: a Vulkan feature struct and the fields Legionella enables from it."""
    struct: str  # the binding's constructor name
    extension: str
    promoted: tuple  # Vulkan version that made it core; () when it is always an extension
    fields: tuple


OPTIONAL_FEATURES = (
    FeatureStruct("VkPhysicalDeviceShaderFloat16Int8Features", "VK_KHR_shader_float16_int8", (1, 2),
                  ("shaderFloat16", "shaderInt8")),
    FeatureStruct("VkPhysicalDevice16BitStorageFeatures", "VK_KHR_16bit_storage", (1, 1),
                  ("storageBuffer16BitAccess",)),
    FeatureStruct("VkPhysicalDevice8BitStorageFeatures", "VK_KHR_8bit_storage", (1, 2), ("storageBuffer8BitAccess",)),
    FeatureStruct("VkPhysicalDeviceShaderAtomicInt64Features", "VK_KHR_shader_atomic_int64", (1, 2),
                  ("shaderBufferInt64Atomics",)),
    FeatureStruct("VkPhysicalDeviceShaderAtomicFloatFeaturesEXT", "VK_EXT_shader_atomic_float", (),
                  ("shaderBufferFloat32AtomicAdd", "shaderSharedFloat32AtomicAdd", "shaderBufferFloat32Atomics")),
    FeatureStruct("VkPhysicalDeviceTimelineSemaphoreFeatures", "VK_KHR_timeline_semaphore", (1, 2),
                  ("timelineSemaphore",)),
    FeatureStruct("VkPhysicalDeviceSynchronization2Features", "VK_KHR_synchronization2", (1, 3),
                  ("synchronization2",)),
    FeatureStruct("VkPhysicalDeviceShaderSubgroupExtendedTypesFeatures", "VK_KHR_shader_subgroup_extended_types",
                  (1, 2), ("shaderSubgroupExtendedTypes",)),
)
CORE_FEATURES = ("shaderFloat64", "shaderInt64", "shaderInt16")

DEVICE_TYPES = {0: "other", 1: "integrated GPU", 2: "discrete GPU", 3: "virtual GPU", 4: "CPU"}
# Default choice: lower is better (discrete > integrated > virtual > CPU).
TYPE_PREFERENCE = {2: 0, 1: 1, 3: 2, 4: 3, 0: 4}
VENDORS = {0x10DE: "nvidia", 0x1002: "amd", 0x8086: "intel", 0x13B5: "arm", 0x5143: "qualcomm", 0x106B: "apple",
           0x10005: "mesa"}
# VkSubgroupFeatureFlagBits -> the Target's names for them.
SUBGROUP_OPERATIONS = {0x1: "basic", 0x2: "vote", 0x4: "arithmetic", 0x8: "ballot", 0x10: "shuffle",
                       0x20: "shuffle_relative", 0x40: "clustered", 0x80: "quad"}
# Highest SPIR-V version each Vulkan version must accept.
# Element-wise kernels handle this many consecutive elements per invocation (the vectorize pass): vec4
# loads and stores are 128 bits, the widest single access on every GPU we know.
ELEMENTWISE_WIDTH = 4
SPIRV_FOR_VULKAN = {(1, 0): (1, 0), (1, 1): (1, 3), (1, 2): (1, 5), (1, 3): (1, 6), (1, 4): (1, 6)}


def _version(packed):
    return (packed >> 22) & 0x7F, (packed >> 12) & 0x3FF, packed & 0xFFF


@dataclasses.dataclass(frozen=True)
class DeviceInfo:
    """Everything Legionella reads from a ``VkPhysicalDevice``."""
    name: str
    device_type: int
    vendor_id: int
    device_id: int
    pipeline_cache_uuid: bytes
    api_version: tuple
    driver_version: int
    driver_name: str
    driver_info: str
    uuid: bytes
    subgroup_size: int
    subgroup_operations: frozenset
    limits: dict
    extensions: frozenset
    features: dict  # field name -> bool, for CORE_FEATURES and every OPTIONAL_FEATURES field
    memory_types: tuple  # of (propertyFlags, heapIndex)
    memory_heaps: tuple  # of (size, flags)

    @property
    def type_name(self):
        """``"discrete GPU"``, ``"integrated GPU"``, ``"virtual GPU"``, ``"CPU"`` or ``"other"``."""
        return DEVICE_TYPES.get(self.device_type, "other")

    @property
    def vendor(self):
        """The Target's vendor name: ``"nvidia"``, ``"amd"``, ``"intel"``, ``"llvmpipe"``, ..."""
        if "llvmpipe" in self.name:
            return "llvmpipe"
        return VENDORS.get(self.vendor_id, "generic")

    def supports(self, row):
        """True when the device can enable the feature struct ``row`` (core, or its extension exists)."""
        core = bool(row.promoted) and self.api_version[:2] >= row.promoted
        return core or row.extension in self.extensions

    def target(self):
        """The compiler :class:`~legionella.compiler.target.Target` for this device."""
        f = self.features
        return Target(
            spirv_version=SPIRV_FOR_VULKAN.get(self.api_version[:2], (1, 6)),
            float16=f.get("shaderFloat16", False) and f.get("storageBuffer16BitAccess", False),
            float64=f["shaderFloat64"], int64=f["shaderInt64"],
            int16=f["shaderInt16"] and f.get("storageBuffer16BitAccess", False),
            int8=f.get("shaderInt8", False) and f.get("storageBuffer8BitAccess", False),
            float32_atomic_add=f.get("shaderBufferFloat32AtomicAdd", False),
            float32_atomic_add_shared=f.get("shaderSharedFloat32AtomicAdd", False),
            int64_atomics=f.get("shaderBufferInt64Atomics", False),
            subgroup_size=self.subgroup_size, subgroup_operations=self.subgroup_operations,
            subgroup_extended_types=f.get("shaderSubgroupExtendedTypes", False),
            max_shared_memory=self.limits["maxComputeSharedMemorySize"],
            max_workgroup_invocations=self.limits["maxComputeWorkGroupInvocations"],
            max_workgroup_size=self.limits["maxComputeWorkGroupSize"],
            max_push_constants=self.limits["maxPushConstantsSize"], vendor=self.vendor, device_name=self.name,
            elementwise_width=ELEMENTWISE_WIDTH)


_LIMITS = ("maxComputeWorkGroupCount", "maxComputeWorkGroupSize", "maxComputeWorkGroupInvocations",
           "maxComputeSharedMemorySize", "maxStorageBufferRange", "maxPushConstantsSize",
           "minStorageBufferOffsetAlignment", "maxMemoryAllocationCount", "maxBoundDescriptorSets",
           "minUniformBufferOffsetAlignment", "timestampPeriod")


def _limits(limits):
    out = {}
    for name in _LIMITS:
        value = getattr(limits, name)
        out[name] = tuple(value) if name.endswith(("Count", "Size")) and not isinstance(value, int) else value
    return out


def _query_features(physical, info_api, extensions):
    """Query CORE_FEATURES and the OPTIONAL_FEATURES the device supports through one pNext chain."""
    vk = _vk.vk
    rows, chain, structs = [], None, []
    for row in OPTIONAL_FEATURES:
        core = bool(row.promoted) and info_api[:2] >= row.promoted
        if core or row.extension in extensions:
            chain = getattr(vk, row.struct)(pNext=chain)
            structs.append(chain)  # keep every link alive until the query returns
            rows.append((row, chain))
    features2 = vk.VkPhysicalDeviceFeatures2(pNext=chain)
    vk.vkGetPhysicalDeviceFeatures2(physical, features2)
    found = {name: bool(getattr(features2.features, name)) for name in CORE_FEATURES}
    for row, struct in rows:
        found.update({name: bool(getattr(struct, name)) for name in row.fields})
    return found


def read_device_info(physical):
    """Read a :class:`DeviceInfo` from a ``VkPhysicalDevice``."""
    vk, ffi = _vk.vk, _vk.ffi
    subgroup = vk.VkPhysicalDeviceSubgroupProperties()
    ids = vk.VkPhysicalDeviceIDProperties(pNext=subgroup)
    driver = vk.VkPhysicalDeviceDriverProperties(pNext=ids)
    props2 = vk.VkPhysicalDeviceProperties2(pNext=driver)
    vk.vkGetPhysicalDeviceProperties2(physical, props2)
    props = props2.properties
    extensions = frozenset(e.extensionName for e in _vk.call(
        "vkEnumerateDeviceExtensionProperties", vk.vkEnumerateDeviceExtensionProperties, physical, None))
    api = _version(props.apiVersion)
    memory = vk.vkGetPhysicalDeviceMemoryProperties(physical)
    compute_subgroups = subgroup.supportedStages & vk.VK_SHADER_STAGE_COMPUTE_BIT
    return DeviceInfo(
        name=ffi.string(props.deviceName).decode() if not isinstance(props.deviceName, str) else props.deviceName,
        device_type=props.deviceType, vendor_id=props.vendorID, device_id=props.deviceID,
        pipeline_cache_uuid=bytes(ffi.buffer(props.pipelineCacheUUID)), api_version=api,
        driver_version=props.driverVersion, driver_name=ffi.string(driver.driverName).decode(),
        driver_info=ffi.string(driver.driverInfo).decode(), uuid=bytes(ffi.buffer(ids.deviceUUID)),
        subgroup_size=subgroup.subgroupSize,
        subgroup_operations=frozenset(name for bit, name in SUBGROUP_OPERATIONS.items()
                                      if compute_subgroups and subgroup.supportedOperations & bit),
        limits=_limits(props.limits), extensions=extensions,
        features=_query_features(physical, api, extensions),
        memory_types=tuple((memory.memoryTypes[i].propertyFlags, memory.memoryTypes[i].heapIndex)
                           for i in range(memory.memoryTypeCount)),
        memory_heaps=tuple((memory.memoryHeaps[i].size, memory.memoryHeaps[i].flags)
                           for i in range(memory.memoryHeapCount)))


def enable_chain(info):
    """The pNext chain (and the structs to keep alive) that enables every optional feature ``info`` has.

    Returns ``(features2, keep_alive, extensions)``: pass ``features2`` as the device create info's
    pNext and enable ``extensions``.
    """
    vk = _vk.vk
    chain, keep, extensions = None, [], []
    for row in OPTIONAL_FEATURES:
        wanted = {name: 1 for name in row.fields if info.features.get(name)}
        if not wanted or not info.supports(row):
            continue
        chain = getattr(vk, row.struct)(pNext=chain, **wanted)
        keep.append(chain)
        if not (row.promoted and info.api_version[:2] >= row.promoted):
            extensions.append(row.extension)
    core = vk.VkPhysicalDeviceFeatures(**{name: 1 for name in CORE_FEATURES if info.features[name]})
    features2 = vk.VkPhysicalDeviceFeatures2(pNext=chain, features=core)
    keep.append(core)
    return features2, keep, extensions
