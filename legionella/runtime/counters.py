"""Process-wide counters, for users who want to know what the runtime did (``lg.stats()``)."""
import threading
import weakref

_lock = threading.Lock()
_counters = dict.fromkeys(("codegen", "disk_hits", "disk_writes", "pipelines"), 0)
STREAM_COUNTERS = ("launches", "dispatches", "submits", "replays")  # attributes of each device's Stream
_streams = weakref.WeakSet()


def bump(name, amount=1):
    """Add ``amount`` to counter ``name``."""
    with _lock:
        _counters[name] += amount


def track(stream):
    """Count ``stream``'s launches, dispatches, submits and replays in :func:`stats` (the stream keeps them itself,
    under its device's lock: the launch path takes no lock of its own for counting)."""
    with _lock:
        _streams.add(stream)


def stats():
    """A snapshot of the counters.

    ``codegen``: kernels compiled in this process (a kernel is compiled once per device);
    ``disk_hits``: compiled kernels found in the on-disk cache instead; ``disk_writes``: entries written to the disk cache;
    ``pipelines``: Vulkan pipelines created; ``launches``: ``kernel[grid](...)`` calls enqueued;
    ``dispatches``: ``vkCmdDispatch`` calls (a launch beyond the device's group limits needs several);
    ``submits``: command buffers submitted; ``replays``: those of them that were an earlier short batch's
    recording submitted again, because the same few commands were submitted again (runtime/stream.py).

    >>> import legionella as lg
    >>> lg.stats()["launches"]  # doctest: +SKIP
    0
    """
    with _lock:
        snapshot = dict(_counters)
        streams = list(_streams)
    for name in STREAM_COUNTERS:
        snapshot[name] = sum(getattr(stream, name) for stream in streams)
    return snapshot
