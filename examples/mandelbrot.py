"""The Mandelbrot set, one invocation per pixel. Run: ``python examples/mandelbrot.py``."""
from legionella.lang import Buffer, f32, global_id, i32, u32


# legionella: kernel
def mandelbrot(image: Buffer[u32, 2], x0: f32, y0: f32, scale: f32, max_iter: i32):
    g = global_id()
    x = g.x
    y = g.y
    if x < image.shape[1] and y < image.shape[0]:
        cr = x0 + f32(x) * scale
        ci = y0 + f32(y) * scale
        zr = 0.0
        zi = 0.0
        n = 0
        while n < max_iter and zr * zr + zi * zi < 4.0:
            t = zr * zr - zi * zi + cr
            zi = 2.0 * zr * zi + ci
            zr = t
            n += 1
        image[y, x] = u32(n)


def view(width, height):
    """The (x0, y0, scale) that frames the whole set in a width x height image."""
    scale = 3.0 / width
    return -2.25, -scale * height / 2, scale


def main(width=256, height=192, max_iter=64):
    import numpy as np
    import legionella as lg

    image = lg.zeros((height, width), dtype=np.uint32)
    x0, y0, scale = view(width, height)
    mandelbrot[width, height](image, x0, y0, scale, max_iter)
    device = image.numpy()
    reference = np.zeros((height, width), dtype=np.uint32)
    mandelbrot.emulate[width, height](reference, x0, y0, scale, max_iter)
    # The iteration is chaotic near the set's edge: a device may fuse a*b+c into one rounding (SPIR-V
    # allows it), which can change the escape count of a rare pixel by an iteration or two.
    differ = np.count_nonzero(device != reference)
    assert differ <= device.size // 1000, f"{differ} of {device.size} pixels differ from the emulator"
    print(f"mandelbrot {width}x{height} on {lg.device().name}: {device.size - differ} of {device.size} "
          "pixels equal to the emulator's")


if __name__ == "__main__":
    import legionella.auto  # noqa: F401  (turns the marked functions above into kernels)
    main()
