"""The on-disk cache: compiled kernels and the driver's pipeline-cache data.

Layout under ``LEGIONELLA_CACHE_DIR`` (default ``$XDG_CACHE_HOME/legionella`` or ``~/.cache/legionella``)::

    kernels/<key>.kernel      one CompiledKernel (see below); key = hash of the kernel id, its dependency
                              closure, the device UUID, the driver version, the Target and the compiler's
                              fingerprint (legionella.__version__ plus a hash of the compiler's sources)
    pipelines/<device>.bin    vkGetPipelineCacheData of one device (UUID + driver version)

A kernel entry is ``ENTRY_HEADER`` (magic, format version, sha256 of the rest, length of the document),
then a JSON document ``{"key": key, "kernel": CompiledKernel.to_document()}``, then the SPIR-V bytes.
Nothing in it is executable: the cache directory may be shared (CI, a team), and reading an entry must not
run code whoever wrote it (pickle would). Reading checks every field (``CompiledKernel.from_document``).

Writes are atomic (a ``.<pid>.tmp`` file, then ``os.replace``), so a reader never sees half an entry.
A corrupt or foreign entry is ignored (and rewritten); a directory that cannot be written means no
disk cache, never an error.
"""
import hashlib
import json
import os
import pathlib
import stat
import struct

from .. import __version__
from ..compiler.fingerprint import compiler_fingerprint
from ..compiler.passes import enabled_passes
from ..compiler.artifact import CompiledKernel
from . import counters

KERNELS = "kernels"
PIPELINES = "pipelines"
PIPELINE_HEADER = struct.Struct("<IIII16s")
ENTRY_SUFFIX = ".kernel"
ENTRY_MAGIC = b"LGKC"
ENTRY_VERSION = 1  # bump when the entry layout or CompiledKernel's document changes: older entries are misses
ENTRY_HEADER = struct.Struct("<4sI32sI")  # magic, version, sha256 of the rest, length of the JSON document


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


def kernel_key(kernel_id, dependency_hash, device_key_, target, variant=(True, False)):
    """The disk key of a kernel compiled for one device (the id too: it names the kernel unambiguously),
    with the passes ``LEGIONELLA_PASSES`` switches on (they change the code) and the ``variant``:
    ``compile_kernel``'s ``(vectorize, aliased)``."""
    text = "\0".join((kernel_id, dependency_hash, device_key_, target.key(), __version__,
                      compiler_fingerprint(), ",".join(sorted(enabled_passes())), repr(variant)))
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


MAX_ENTRY_BYTES = 1 << 28  # a kernel entry is KBs, a pipeline cache MBs; anything larger is not ours


def _read(path):
    """The bytes of the regular file ``path``, or None: missing, unreadable, not a regular file (a link
    to /dev/zero or a FIFO in a shared cache directory must not hang or exhaust the process) or larger
    than MAX_ENTRY_BYTES."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_ENTRY_BYTES:
            return None
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(MAX_ENTRY_BYTES + 1)
        return data if len(data) <= MAX_ENTRY_BYTES else None
    except OSError:
        return None
    finally:
        os.close(fd)


def _reject_constant(name):
    raise ValueError(f"{name} in a cache entry")  # JSON's NaN and Infinity: no field takes a float


_JSON = json.JSONDecoder(parse_constant=_reject_constant)


def encode_entry(key, compiled):
    """The bytes of the cache entry holding ``compiled`` under ``key`` (ValueError: it cannot be stored)."""
    document = json.dumps({"key": key, "kernel": compiled.to_document()}, separators=(",", ":")).encode()
    body = document + compiled.spirv
    return ENTRY_HEADER.pack(ENTRY_MAGIC, ENTRY_VERSION, hashlib.sha256(body).digest(), len(document)) + body


def decode_entry(key, data):
    """The :class:`CompiledKernel` stored in the entry bytes ``data`` under ``key``, or None.

    Anything but an intact entry of this format for this key (truncated, damaged, another version,
    another key, a field out of range) is None, never an exception."""
    if len(data) < ENTRY_HEADER.size:
        return None
    magic, version, digest, length = ENTRY_HEADER.unpack_from(data)
    body = memoryview(data)[ENTRY_HEADER.size:]
    if ((magic, version) != (ENTRY_MAGIC, ENTRY_VERSION) or length > len(body)
            or hashlib.sha256(body).digest() != digest):
        return None
    try:
        document = _JSON.decode(str(body[:length], "utf-8"))
        if type(document) is not dict or document.keys() != {"key", "kernel"} or document["key"] != key:
            return None
        return CompiledKernel.from_document(document["kernel"], bytes(body[length:]))
    except (ValueError, RecursionError):  # RecursionError: JSON nested deeper than the parser goes
        return None


def _kernel_path(key):
    return cache_dir() / KERNELS / f"{key}{ENTRY_SUFFIX}"


def load_kernel(key):
    """The cached :class:`CompiledKernel` for ``key``, or None (missing, corrupt or foreign)."""
    data = _read(_kernel_path(key))
    compiled = None if data is None else decode_entry(key, data)
    if compiled is not None:
        counters.bump("disk_hits")
    return compiled


def store_kernel(key, compiled):
    """Store a compiled kernel under ``key`` (silently skipped when the directory is not writable, and for
    a kernel the format cannot name: a struct element whose class is defined inside a function)."""
    try:
        data = encode_entry(key, compiled)
    except ValueError:
        return
    # An entry that would not read back as this kernel is not written: a field the format lost would
    # otherwise come back wrong in every later process.
    if decode_entry(key, data) == compiled and atomic_write(_kernel_path(key), data):
        counters.bump("disk_writes")


def load_pipeline_cache(device_key_, info):
    """The saved pipeline-cache data of a device, or b"" when missing, damaged or from another device.

    Drivers are not required to survive arbitrary bytes, so the data is checked before Vulkan sees it:
    the file is ``sha256(data) + data``, and the data's header must name this device
    (``VkPipelineCacheHeaderVersionOne``: headerSize 32, version 1, vendorID, deviceID, pipelineCacheUUID).
    """
    blob = _read(cache_dir() / PIPELINES / f"{device_key_}.bin") or b""
    digest, data = blob[:32], blob[32:]
    if len(data) < PIPELINE_HEADER.size or hashlib.sha256(data).digest() != digest:
        return b""
    length, version, vendor, device_id, uuid = PIPELINE_HEADER.unpack_from(data)
    if (length, version, vendor, device_id, uuid) != (PIPELINE_HEADER.size, 1, info.vendor_id, info.device_id,
                                                      info.pipeline_cache_uuid):
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
