"""``legionella demo``: a short showcase on one device, with a readable report.

Runs the kernels of ``examples/`` (saxpy, mandelbrot, heat diffusion, a reduction), checks each result
against numpy, prints codegen and kernel times, and writes ``mandelbrot.png`` and ``heat.png``. Sizes
depend on the device: small on a CPU device (lavapipe), large on a GPU (see :data:`showcases.SIZES`).

>>> from legionella import demo
>>> demo.main(out_dir="/tmp/demo")     # doctest: +SKIP
"""
import os
import sys
import time

from .. import __version__, runtime
from .measure import fmt_time
from .showcases import SHOWCASES, Context, sizes_for

LABEL_WIDTH = 13


def device_line(device):
    """One line naming the device, its type, Vulkan version and driver."""
    info = device.info
    return (f"{device.name} [{device.index}]: {device.type_name}, Vulkan {'.'.join(map(str, info.api_version))}, "
            f"{info.driver_name} {info.driver_info}")


def print_section(section, out):
    """Print a showcase's title and its rows, labels aligned."""
    print(f"\n{section.title}", file=out)
    for label, text in section.rows:
        print(f"  {label:<{LABEL_WIDTH}}{text}", file=out)
    out.flush()


def main(out_dir=".", device=None, out=None):
    """Run every showcase on ``device`` (an index or name substring; default: the current device),
    writing the images to ``out_dir`` and the report to ``out`` (default stdout).

    Returns the exit status: 0 when every result check passed, 1 otherwise.
    """
    out = out or sys.stdout
    chosen = runtime.set_device(device) if device is not None else runtime.device()
    os.makedirs(out_dir, exist_ok=True)
    ctx = Context(device=chosen, sizes=sizes_for(chosen), out_dir=out_dir)
    size_kind = "CPU device: small sizes" if chosen.type_name == "CPU" else "GPU: large sizes"
    print(f"Legionella {__version__} demo on {device_line(chosen)}", file=out)
    print(f"({size_kind}; kernel times are wall time around launch + synchronize, best of "
          f"{ctx.sizes.repeats})", file=out)
    start = time.perf_counter()
    failed = []
    for showcase in SHOWCASES:
        section = showcase(ctx)
        print_section(section, out)
        if not section.ok:
            failed.append(showcase.__name__)
    verdict = "all results checked" if not failed else "WRONG results: " + ", ".join(failed)
    print(f"\ndone in {fmt_time(time.perf_counter() - start)}: {verdict}", file=out)
    return 1 if failed else 0
