"""The process-wide Vulkan instance, with the validation layer and its messenger when asked for."""
import threading

from ..errors import DeviceError
from . import _vk, validation

VALIDATION_LAYER = "VK_LAYER_KHRONOS_validation"
DEBUG_UTILS = "VK_EXT_debug_utils"
PORTABILITY = "VK_KHR_portability_enumeration"  # lists MoltenVK-style devices too
API_VERSION = (1, 3, 0)

_lock = threading.Lock()
_instance = None


class Instance:
    """A ``VkInstance`` plus, under validation, the debug messenger that records errors."""

    def __init__(self):
        _vk.require_binding()
        vk = _vk.vk
        self.validation = validation.requested()
        layers = self._layers(vk)
        available = set()
        for provider in [None, *layers]:  # the validation layer may provide debug_utils itself
            available.update(e.extensionName for e in _vk.call("vkEnumerateInstanceExtensionProperties",
                                                                 vk.vkEnumerateInstanceExtensionProperties, provider))
        if self.validation and DEBUG_UTILS not in available:
            raise DeviceError(f"LEGIONELLA_VALIDATION=1 needs {DEBUG_UTILS} to report validation errors, and the "
                              "Vulkan loader does not offer it; install `vulkan-validationlayers` (Debian) or "
                              "unset LEGIONELLA_VALIDATION")
        extensions = [DEBUG_UTILS] if self.validation else []
        flags = 0
        if PORTABILITY in available:
            extensions.append(PORTABILITY)
            flags = vk.VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR
        # Held in locals until vkCreateInstance returns (DESIGN section 3: the binding keeps nothing alive).
        app_info = vk.VkApplicationInfo(pApplicationName="legionella", pEngineName="legionella",
                                        apiVersion=vk.VK_MAKE_VERSION(*API_VERSION))
        create_info = vk.VkInstanceCreateInfo(flags=flags, pApplicationInfo=app_info, enabledLayerCount=len(layers),
                                              ppEnabledLayerNames=layers or None,
                                              enabledExtensionCount=len(extensions),
                                              ppEnabledExtensionNames=extensions or None)
        try:
            self.handle = _vk.call("vkCreateInstance", vk.vkCreateInstance, create_info, None)
        except DeviceError as e:  # typically VK_ERROR_INCOMPATIBLE_DRIVER: a loader but no driver
            raise DeviceError(f"{e}; no Vulkan driver could be used: {_vk.INSTALL_HINT}") from None
        self.messenger = self._create_messenger(vk) if self.validation else None

    @staticmethod
    def _layers(vk):
        if not validation.requested():
            return []
        names = {layer.layerName for layer in _vk.call("vkEnumerateInstanceLayerProperties",
                                                        vk.vkEnumerateInstanceLayerProperties)}
        if VALIDATION_LAYER not in names:
            raise DeviceError(f"LEGIONELLA_VALIDATION=1 asks for {VALIDATION_LAYER}, which is not installed; "
                              "install it with `apt-get install vulkan-validationlayers` or unset LEGIONELLA_VALIDATION")
        return [VALIDATION_LAYER]

    def _create_messenger(self, vk):
        ffi = _vk.ffi

        @ffi.callback("PFN_vkDebugUtilsMessengerCallbackEXT")
        def on_message(severity, types, data, user_data):
            if severity & vk.VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT:
                validation.record(ffi.string(data.pMessage).decode("utf-8", "replace"))
            return 0  # VK_FALSE: never abort the call

        self._on_message = on_message  # the C callback must outlive the messenger
        create_info = ffi.new("VkDebugUtilsMessengerCreateInfoEXT*", {
            "sType": vk.VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
            "messageSeverity": (vk.VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT
                                | vk.VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT),
            "messageType": (vk.VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT
                            | vk.VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT
                            | vk.VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT),
            "pfnUserCallback": on_message,
        })
        create = _vk.ffi.cast("PFN_vkCreateDebugUtilsMessengerEXT",
                              _vk.lib.vkGetInstanceProcAddr(self.handle, b"vkCreateDebugUtilsMessengerEXT"))
        messenger = ffi.new("VkDebugUtilsMessengerEXT*")
        _vk.check(create(self.handle, create_info, ffi.NULL, messenger), "vkCreateDebugUtilsMessengerEXT")
        return messenger[0]

    def physical_devices(self):
        """The instance's ``VkPhysicalDevice`` handles, in the loader's order."""
        return _vk.call("vkEnumeratePhysicalDevices", _vk.vk.vkEnumeratePhysicalDevices, self.handle)


def get():
    """The process's :class:`Instance`, created on first use."""
    global _instance
    with _lock:
        if _instance is None:
            _instance = Instance()
        return _instance
