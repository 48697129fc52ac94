"""Timing for the demo: codegen cold and cached, the first launch, and a kernel's best wall time.

Kernel times are wall-clock time around launch + synchronize (what a user's program waits for, submit
and fence included), best of a few runs; codegen is timed by calling ``kernel.compile`` directly.
"""
import time

from .. import runtime


def seconds(fn):
    """Wall time of one call of ``fn``, in seconds."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def best_of(fn, repeats):
    """The shortest wall time of ``repeats`` calls of ``fn``, in seconds."""
    return min(seconds(fn) for _ in range(repeats))


def codegen_times(kernel, target):
    """``(cold, cached)`` seconds of ``kernel.compile(target)``: the first call runs the whole compiler
    (in a fresh process), the second finds the result in the compiler's in-process cache."""
    return seconds(lambda: kernel.compile(target)), seconds(lambda: kernel.compile(target))


# What the counters of lg.stats() say about a kernel's first launch, checked in this order.
FIRST_LAUNCH_SOURCES = (
    ("codegen", "compiled (not in the disk cache yet), then stored there"),
    ("disk_hits", "loaded from the disk cache, no codegen"),
)


def first_launch(fn):
    """Run ``fn`` (a first launch, synchronized) and say where its compiled kernel came from, from the
    runtime's counters: ``(seconds, text)``."""
    before = runtime.stats()
    elapsed = seconds(fn)
    after = runtime.stats()
    source = next((text for counter, text in FIRST_LAUNCH_SOURCES if after[counter] > before[counter]),
                  "already prepared in this process")
    return elapsed, source


def fmt_time(s):
    """``s`` seconds in a readable unit: ``'41.3 ms'``, ``'2.1 us'``, ``'1.25 s'``."""
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.1f} ms"
    return f"{s * 1e6:.1f} us"


def fmt_rate(nbytes, s):
    """Bytes moved in ``s`` seconds as GB/s."""
    return f"{nbytes / s / 1e9:.1f} GB/s"
