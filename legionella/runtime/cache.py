"""The on-disk cache: compiled kernels and the driver's pipeline-cache data.

Layout under ``LEGIONELLA_CACHE_DIR`` (default ``$XDG_CACHE_HOME/legionella`` or ``~/.cache/legionella``)::

    kernels/<key>.pickle      (key, CompiledKernel); key = hash of the kernel id, its dependency closure,
                              the device UUID, the driver version, the Target and the compiler's fingerprint
                              (legionella.__version__ plus a hash of the compiler's sources)
    pipelines/<device>.bin    vkGetPipelineCacheData of one device (UUID + driver version)

Writes are atomic (a ``.<pid>.tmp`` file, then ``os.replace``), so a reader never sees half an entry.
A corrupt or foreign entry is ignored (and rewritten); a directory that cannot be written means no
disk cache, never an error.
"""
import hashlib
import os
import pathlib
import pickle
import struct

from .. import __version__
from ..compiler.fingerprint import compiler_fingerprint
from ..compiler.passes import enabled_passes
from ..compiler.artifact import CompiledKernel
from . import counters

KERNELS = "kernels"
PIPELINES = "pipelines"
PIPELINE_HEADER = struct.Struct("<IIII16s")


def cache_dir():
    """The cache directory (it may not exist yet)."""
    configured = os.environ.get("LEGIONELLA_CACHE_DIR")
    if configured:
        return pathlib.Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache"
    return pathlib.Path(base) / "legionella"


def device_key(info):
    """Names one device and driver build: the UUID and the driver version."""
    return f"{info.uuid.hex()}-{info.driver_version:x}"


def kernel_key(kernel_id, dependency_hash, device_key_, target):
    """The disk key of a kernel compiled for one device (the id too: it names the kernel unambiguously),
    with the passes ``LEGIONELLA_PASSES`` switches on: they change the code."""
    text = "\0".join((kernel_id, dependency_hash, device_key_, target.key(), __version__,
                      compiler_fingerprint(), ",".join(sorted(enabled_passes()))))
    return hashlib.sha256(text.encode()).hexdigest()


def atomic_write(path, data):
    """Write ``data`` to ``path`` through a pid-named temp file and ``os.replace``; False if it cannot."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
        os.replace(tmp, path)
        return True
    except OSError:
        try:
            tmp.unlink()
        except OSError:
            pass
        return False


def _read(path):
    try:
        return path.read_bytes()
    except OSError:
        return None


def load_kernel(key):
    """The cached :class:`CompiledKernel` for ``key``, or None (missing, corrupt or foreign)."""
    data = _read(cache_dir() / KERNELS / f"{key}.pickle")
    if data is None:
        return None
    try:
        stored_key, compiled = pickle.loads(data)
    except Exception:  # any damage to the file shows up here as some exception: treat it as a miss
        return None
    if stored_key != key or not isinstance(compiled, CompiledKernel) or compiled.spirv[:4] != b"\x03\x02\x23\x07":
        return None
    counters.bump("disk_hits")
    return compiled


def store_kernel(key, compiled):
    """Store a compiled kernel under ``key`` (silently skipped when the directory is not writable)."""
    if atomic_write(cache_dir() / KERNELS / f"{key}.pickle", pickle.dumps((key, compiled))):
        counters.bump("disk_writes")


def load_pipeline_cache(device_key_, info):
    """The saved pipeline-cache data of a device, or b"" when missing, damaged or from another device.

    Drivers are not required to survive arbitrary bytes, so the data is checked before Vulkan sees it:
    the file is ``sha256(data) + data``, and the data's header must name this device
    (``VkPipelineCacheHeaderVersionOne``: length, version 1, vendorID, deviceID, pipelineCacheUUID).
    """
    blob = _read(cache_dir() / PIPELINES / f"{device_key_}.bin") or b""
    digest, data = blob[:32], blob[32:]
    if len(data) < PIPELINE_HEADER.size or hashlib.sha256(data).digest() != digest:
        return b""
    length, version, vendor, device_id, uuid = PIPELINE_HEADER.unpack_from(data)
    if (version, vendor, device_id, uuid) != (1, info.vendor_id, info.device_id, info.pipeline_cache_uuid):
        return b""
    return data


def store_pipeline_cache(device_key_, data):
    """Save a device's pipeline-cache data (with its digest, see :func:`load_pipeline_cache`)."""
    atomic_write(cache_dir() / PIPELINES / f"{device_key_}.bin", hashlib.sha256(data).digest() + data)


def _entries():
    root = cache_dir()
    return [p for sub in (KERNELS, PIPELINES) if (root / sub).is_dir() for p in (root / sub).iterdir() if p.is_file()]


def cache_command(action):
    """``legionella cache info`` / ``legionella cache clear``: the text to print."""
    root = cache_dir()
    entries = _entries()
    if action == "info":
        kernels = sum(p.parent.name == KERNELS for p in entries)
        size = sum(p.stat().st_size for p in entries)
        return (f"cache directory: {root}\n"
                f"compiled kernels: {kernels}\n"
                f"pipeline caches: {len(entries) - kernels}\n"
                f"total size: {size:,} bytes")
    if action == "clear":
        removed = 0
        for p in entries:
            try:
                p.unlink()
                removed += 1
            except OSError as e:
                raise OSError(f"cannot remove {p}: {e.strerror}") from None
        return f"removed {removed} entries from {root}"
    raise ValueError(f"unknown cache action {action!r}; use 'info' or 'clear'")
