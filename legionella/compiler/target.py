"""What the compiler may assume about the device it compiles for.

The runtime builds a :class:`Target` from the Vulkan device's properties and features; the compiler
never talks to Vulkan. ``Target()`` is a conservative Vulkan 1.1 device (lavapipe-like), used when
no device is involved (``kernel.spirv()`` without a device, ``legionella build --generic``).
"""
import dataclasses


@dataclasses.dataclass(frozen=True)
class Target:
    """Device capabilities relevant to code generation. Frozen: it is part of cache keys."""
    spirv_version: tuple = (1, 3)
    float16: bool = False
    float64: bool = False
    int64: bool = False
    int16: bool = False
    int8: bool = False
    float32_atomic_add: bool = False
    float32_atomic_add_shared: bool = False
    int64_atomics: bool = False
    subgroup_size: int = 32
    subgroup_operations: frozenset = frozenset()  # of "basic", "vote", "arithmetic", "ballot", "shuffle"
    subgroup_extended_types: bool = False  # subgroup operations on 8-, 16- and 64-bit values
    # The generic target's limits are those every current desktop and mobile GPU (and lavapipe) meets, and
    # the default workgroup (256) fits them; Vulkan's own minimums (16 KiB, 128) would refuse common kernels.
    max_shared_memory: int = 32768
    max_workgroup_invocations: int = 256
    max_workgroup_size: tuple = (256, 256, 64)
    max_push_constants: int = 128
    vendor: str = "generic"  # "nvidia", "amd", "intel", "llvmpipe", ...
    device_name: str = "a generic Vulkan 1.1 device"  # for error messages: "the device (NAME) ..."
    # Elements per invocation the vectorize pass may give element-wise kernels: the runtime's launcher
    # honours CompiledKernel.elements_per_invocation and sets 4 (128-bit loads); modules that others
    # launch (no device) keep one element per invocation.
    elementwise_width: int = 1

    def key(self):
        """A string for cache keys, the same in every process (sets are written sorted)."""
        return repr(tuple(sorted(v) if isinstance(v, frozenset) else v for v in dataclasses.astuple(self)))
