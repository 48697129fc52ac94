"""The demo's showcases, one function each, running the kernels of ``examples/``.

Each takes the :class:`Context` and returns a :class:`Section`: a title and ``(label, text)`` rows, and
whether its result check passed. Kernels come from the examples modules, imported through the hook.
"""
import dataclasses
import importlib
import os

import numpy as np

from .. import runtime
from .measure import best_of, codegen_times, first_launch, fmt_rate, fmt_time
from .png import colormap, write_png


@dataclasses.dataclass(frozen=True)
class Sizes:
    """Problem sizes for one kind of device."""
    saxpy: int  # elements
    mandelbrot: tuple  # (width, height, max_iter)
    heat: tuple  # (n, steps): an n x n plate
    reduction: int  # elements
    repeats: int  # timed runs per kernel (the best counts)


# lavapipe on two cores finishes each showcase in about a second; a GPU gets work worth timing.
SIZES = {
    "cpu": Sizes(saxpy=4_000_000, mandelbrot=(800, 600, 256), heat=(256, 300), reduction=4_000_000, repeats=3),
    "gpu": Sizes(saxpy=1 << 26, mandelbrot=(3840, 2160, 1024), heat=(2048, 2000), reduction=1 << 26, repeats=10),
}
MANDELBROT_CHECKED_ROWS = 64  # rows recomputed in numpy (the whole image would take numpy many seconds)
HEAT_CHECKED_STEPS = 50  # steps compared with numpy (a numpy step of a large plate costs milliseconds)


def sizes_for(device):
    """The :data:`SIZES` entry for ``device``: ``"cpu"`` for a CPU device such as lavapipe, else ``"gpu"``."""
    return SIZES["cpu" if device.type_name == "CPU" else "gpu"]


@dataclasses.dataclass
class Context:
    """What every showcase gets: the device, its sizes, and where to write images."""
    device: object
    sizes: Sizes
    out_dir: str


@dataclasses.dataclass
class Section:
    """One showcase's part of the report."""
    title: str
    rows: list = dataclasses.field(default_factory=list)
    ok: bool = True

    def add(self, label, text):
        """Add a ``label: text`` row."""
        self.rows.append((label, text))

    def check(self, passed, text_if_passed, text_if_failed):
        """Add a ``result`` row and remember a failed check."""
        self.ok = self.ok and passed
        self.add("result", text_if_passed if passed else "WRONG: " + text_if_failed)


def example(name):
    """``examples.NAME``, imported with the import hook installed (``legionella.auto``)."""
    import legionella.auto  # noqa: F401
    return importlib.import_module(f"examples.{name}")


def timing_rows(section, kernel, ctx, first):
    """Add the codegen row (cold, then cached) and the first-launch row (its time, and where it found the
    compiled kernel) for ``kernel``, whose first synchronized launch is ``first()``."""
    cold, cached = codegen_times(kernel, ctx.device.target)
    elapsed, source = first_launch(first)
    section.add("codegen", f"{fmt_time(cold)} cold, {fmt_time(cached)} cached in process")
    section.add("first launch", f"{fmt_time(elapsed)}: {source}")


def saxpy(ctx):
    """y = a*x + y on the device, checked against numpy, with both bandwidths."""
    kernel = example("saxpy").saxpy
    n = ctx.sizes.saxpy
    rng = np.random.default_rng(0)
    x, y, a = rng.random(n, dtype=np.float32), rng.random(n, dtype=np.float32), np.float32(2.0)
    dx, dy = runtime.array(x), runtime.array(y)
    section = Section(f"saxpy: y = a*x + y over {n:,} float32")

    def launch():
        kernel[n](a, dx, dy)
        runtime.synchronize()

    timing_rows(section, kernel, ctx, launch)
    expected = a * x + y
    err = float(np.max(np.abs(dy.numpy() - expected)))
    section.check(err <= 1e-6 * float(np.max(np.abs(expected))), f"matches numpy (largest difference {err:g})",
                  f"largest difference from numpy {err:g}")
    nbytes = 3 * 4 * n  # read x and y, write y
    kernel_s = best_of(launch, ctx.sizes.repeats)
    numpy_s = best_of(lambda: a * x + y, ctx.sizes.repeats)
    section.add("kernel", f"{fmt_time(kernel_s)}: {fmt_rate(nbytes, kernel_s)}")
    section.add("numpy", f"{fmt_time(numpy_s)}: {fmt_rate(nbytes, numpy_s)} (a*x + y on the host, same data)")
    return section


def mandelbrot_reference(rows, width, x0, y0, scale, max_iter):
    """Escape counts of the image rows ``rows`` in numpy float32, the kernel's arithmetic."""
    cr = np.float32(x0) + np.arange(width, dtype=np.float32)[None, :] * np.float32(scale)
    ci = np.float32(y0) + np.asarray(rows, dtype=np.float32)[:, None] * np.float32(scale)
    cr, ci = np.broadcast_arrays(cr, ci)
    zr, zi = np.zeros_like(cr), np.zeros_like(cr)
    counts = np.zeros(cr.shape, np.uint32)
    active = np.ones(cr.shape, bool)
    for _ in range(max_iter):
        active &= zr * zr + zi * zi < np.float32(4.0)
        if not active.any():
            break
        zr_a, zi_a = zr[active], zi[active]
        zr[active], zi[active] = zr_a * zr_a - zi_a * zi_a + cr[active], np.float32(2.0) * zr_a * zi_a + ci[active]
        counts[active] += 1
    return counts


def mandelbrot_colors(counts, max_iter):
    """RGB pixels: points inside the set dark, the outside by log escape count."""
    shade = np.log1p(counts.astype(np.float32)) / np.log1p(max_iter)
    return colormap(np.where(counts >= max_iter, 0.0, shade))


def mandelbrot(ctx):
    """The Mandelbrot set rendered on the device to OUT/mandelbrot.png; some rows checked with numpy."""
    module = example("mandelbrot")
    kernel = module.mandelbrot
    width, height, max_iter = ctx.sizes.mandelbrot
    path = os.path.join(ctx.out_dir, "mandelbrot.png")
    image = runtime.zeros((height, width), dtype=np.uint32)
    x0, y0, scale = module.view(width, height)
    section = Section(f"mandelbrot: {width}x{height}, up to {max_iter} iterations -> {path}")

    def launch():
        kernel[width, height](image, x0, y0, scale, max_iter)
        runtime.synchronize()

    timing_rows(section, kernel, ctx, launch)
    counts = image.numpy()
    rows = np.linspace(0, height - 1, MANDELBROT_CHECKED_ROWS).astype(int)
    differ = int(np.count_nonzero(counts[rows] != mandelbrot_reference(rows, width, x0, y0, scale, max_iter)))
    # A device may fuse a*b+c into one rounding (SPIR-V allows it); near the set's edge the iteration is
    # chaotic, so that moves some escape counts (lavapipe: 0.2% of pixels at 256 iterations). A real bug
    # (coordinates, arithmetic) changes far more than the 1% allowed.
    section.check(differ <= rows.size * width // 100,
                  f"{rows.size} rows match numpy ({differ} edge pixels differ)",
                  f"{differ} of {rows.size * width} checked pixels differ from numpy")
    section.add("kernel", f"{fmt_time(best_of(launch, ctx.sizes.repeats))}")
    write_png(path, mandelbrot_colors(counts, max_iter))
    return section


def heat(ctx):
    """Jacobi heat diffusion on the device, the final plate to OUT/heat.png."""
    module = example("heat")
    kernel = module.jacobi_step
    n, steps = ctx.sizes.heat
    alpha = np.float32(0.24)
    path = os.path.join(ctx.out_dir, "heat.png")
    initial = module.initial_plate(n)
    plates = [runtime.array(initial), runtime.empty((n, n), dtype=np.float32)]
    section = Section(f"heat: {n}x{n} plate, {steps} Jacobi steps -> {path}")

    def run(count):
        plates[0].copy_from(initial)
        for step in range(count):
            kernel[n, n](plates[step % 2], plates[1 - step % 2], alpha)
        runtime.synchronize()
        return plates[count % 2]

    timing_rows(section, kernel, ctx, lambda: run(1))
    checked = min(steps, HEAT_CHECKED_STEPS)
    expected = initial
    for _ in range(checked):
        expected = module.reference_step(expected, alpha)
    err = float(np.max(np.abs(run(checked).numpy() - expected)))
    section.check(err <= 1e-5, f"the first {checked} steps match numpy", f"max error {err:g} after {checked} steps")
    total = best_of(lambda: run(steps), ctx.sizes.repeats)
    section.add("kernel", f"{fmt_time(total)} for {steps} steps ({fmt_time(total / steps)} a step)")
    # The last timed run's plate, on a square-root scale so that faint warmth shows.
    write_png(path, colormap(np.sqrt(plates[steps % 2].numpy())))
    return section


def reduction(ctx):
    """A sum reduced on the device in workgroup memory, checked against numpy."""
    n = ctx.sizes.reduction
    section = Section(f"reduction: sum of {n:,} float32 in workgroup memory")
    module = example("reduction")
    values = np.random.default_rng(0).random(n, dtype=np.float32)
    data = runtime.array(values)
    timing_rows(section, module.block_sum, ctx, lambda: module.device_sum(data))
    total, expected = module.device_sum(data), float(values.astype(np.float64).sum())
    section.check(abs(total - expected) <= 1e-4 * expected, f"{total:,.1f} (numpy: {expected:,.1f})",
                  f"{total:,.1f}, numpy says {expected:,.1f}")
    section.add("kernel", f"{fmt_time(best_of(lambda: module.device_sum(data), ctx.sizes.repeats))} "
                          "(every pass, and reading the sum back)")
    return section


SHOWCASES = (saxpy, mandelbrot, heat, reduction)
