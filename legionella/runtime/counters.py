"""Process-wide counters, for users who want to know what the runtime did (``lg.stats()``)."""
import threading

_lock = threading.Lock()
_counters = dict.fromkeys(("codegen", "disk_hits", "disk_writes", "pipelines", "launches",
                           "dispatches", "submits"), 0)


def bump(name, amount=1):
    """Add ``amount`` to counter ``name``."""
    with _lock:
        _counters[name] += amount


def bump_launch(dispatches):
    """Count one launch made of ``dispatches`` dispatches (one lock for both: this is the hot path)."""
    with _lock:
        _counters["launches"] += 1
        _counters["dispatches"] += dispatches


def stats():
    """A snapshot of the counters.

    ``codegen``: kernels compiled in this process (a kernel is compiled once per device);
    ``disk_hits``: compiled kernels found in the on-disk cache instead; ``disk_writes``: entries written to the disk cache;
    ``pipelines``: Vulkan pipelines created; ``launches``: ``kernel[grid](...)`` calls enqueued;
    ``dispatches``: ``vkCmdDispatch`` calls (a launch beyond the device's group limits needs several);
    ``submits``: command buffers submitted.

    >>> import legionella as lg
    >>> lg.stats()["launches"]  # doctest: +SKIP
    0
    """
    with _lock:
        return dict(_counters)
