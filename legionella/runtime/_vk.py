"""The ``vulkan`` binding, loaded once, and the translation of Vulkan failures into Legionella errors.

Every call into Vulkan goes through :func:`call` (the wrapper, which raises on a failing ``VkResult``)
or :func:`check` (raw ``lib`` calls on the hot path, which return the ``VkResult``), so no result is
ever ignored.
"""
from ..errors import DeviceError, DeviceLostError, OutOfMemoryError

INSTALL_HINT = ("install a Vulkan driver and loader; on Debian/Ubuntu the CPU driver lavapipe works "
                "everywhere: `apt-get install mesa-vulkan-drivers libvulkan1`")

try:
    import vulkan as vk
    from vulkan._vulkan import ffi, lib
except OSError as e:  # the binding raises OSError when libvulkan.so.1 is missing
    vk = ffi = lib = None
    LOAD_ERROR = f"the Vulkan loader (libvulkan.so.1) could not be loaded ({e})"
except ImportError as e:
    vk = ffi = lib = None
    LOAD_ERROR = f"the Python package `vulkan` is missing ({e}; `pip install vulkan`)"
else:
    LOAD_ERROR = None


def require_binding():
    """Raise a :class:`DeviceError` saying how to install Vulkan when the loader is missing."""
    if vk is None:
        raise DeviceError(f"{LOAD_ERROR}; {INSTALL_HINT}")


# VkResult codes -> (exception class, plain-words cause). Anything else is a DeviceError with the code.
_RESULTS = {
    -1: (OutOfMemoryError, "out of host memory"),
    -2: (OutOfMemoryError, "out of device memory"),
    -3: (DeviceError, "initialization failed"),
    -4: (DeviceLostError, "the device was lost"),
    -5: (DeviceError, "memory map failed"),
    -6: (DeviceError, "a layer is not present"),
    -7: (DeviceError, "an extension is not present"),
    -8: (DeviceError, "a feature is not present"),
    -9: (DeviceError, "incompatible driver"),
    -10: (DeviceError, "too many objects"),
    -1000069000: (OutOfMemoryError, "out of descriptor pool memory"),
    2: (TimeoutError, "timed out"),
}


def error_for(result, what):
    """The exception for a failing ``VkResult`` of the call described by ``what``."""
    cls, cause = _RESULTS.get(result, (DeviceError, f"VkResult {result}"))
    return cls(f"{what}: {cause}")


def check(result, what):
    """Raise unless ``result`` (a raw ``VkResult``) is ``VK_SUCCESS``."""
    if result != 0:
        raise error_for(result, what)


# The wrapper raises one exception class per VkResult; map them back to the codes above.
_EXCEPTION_NAMES = {"VkErrorOutOfHostMemory": -1, "VkErrorOutOfDeviceMemory": -2, "VkErrorInitializationFailed": -3,
                    "VkErrorDeviceLost": -4, "VkErrorMemoryMapFailed": -5, "VkErrorLayerNotPresent": -6,
                    "VkErrorExtensionNotPresent": -7, "VkErrorFeatureNotPresent": -8,
                    "VkErrorIncompatibleDriver": -9, "VkErrorTooManyObjects": -10,
                    "VkErrorOutOfPoolMemory": -1000069000, "VkTimeout": 2}


_EXCEPTION_RESULTS = {getattr(vk, name): code for name, code in _EXCEPTION_NAMES.items()} if vk else {}


def call(what, fn, *args):
    """Call a wrapper function ``fn(*args)``; a failing ``VkResult`` becomes a Legionella error naming ``what``."""
    try:
        return fn(*args)
    except (vk.VkError, vk.VkException) as e:
        raise error_for(_EXCEPTION_RESULTS.get(type(e), type(e).__name__), what) from None
