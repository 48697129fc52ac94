"""Heat diffusion on a plate by Jacobi iteration. Run: ``python examples/heat.py``."""
from legionella.lang import Buffer, f32, global_id


# legionella: kernel
def jacobi_step(src: Buffer[f32, 2], dst: Buffer[f32, 2], alpha: f32):
    g = global_id()
    x = g.x
    y = g.y
    h = src.shape[0]
    w = src.shape[1]
    if x < w and y < h:
        if x == 0 or y == 0 or x == w - 1 or y == h - 1:
            dst[y, x] = src[y, x]
        else:
            laplacian = src[y - 1, x] + src[y + 1, x] + src[y, x - 1] + src[y, x + 1] - 4.0 * src[y, x]
            dst[y, x] = src[y, x] + alpha * laplacian


def initial_plate(n):
    """A cold n x n plate with a hot edge and a hot spot."""
    import numpy as np
    plate = np.zeros((n, n), dtype=np.float32)
    plate[0, :] = 1.0
    plate[n // 3: n // 3 + n // 8, n // 2: n // 2 + n // 8] = 1.0
    return plate


def reference_step(src, alpha):
    """One Jacobi step in numpy."""
    dst = src.copy()
    dst[1:-1, 1:-1] = src[1:-1, 1:-1] + alpha * (src[:-2, 1:-1] + src[2:, 1:-1] + src[1:-1, :-2]
                                                 + src[1:-1, 2:] - 4.0 * src[1:-1, 1:-1])
    return dst


def run(n, steps, alpha=0.24):
    """Run ``steps`` Jacobi steps on the device; returns the final plate as a numpy array."""
    import legionella as lg
    a = lg.array(initial_plate(n))
    b = lg.empty((n, n), dtype="float32")
    for _ in range(steps):
        jacobi_step[n, n](a, b, alpha)
        a, b = b, a
    return a.numpy()


def main(n=128, steps=200, alpha=0.24):
    import numpy as np
    import legionella as lg

    result = run(n, steps, alpha)
    expected = initial_plate(n)
    for _ in range(steps):
        expected = reference_step(expected, np.float32(alpha))
    np.testing.assert_allclose(result, expected, atol=1e-5)
    print(f"heat diffusion {n}x{n}, {steps} steps on {lg.device().name}: matches numpy")


if __name__ == "__main__":
    import legionella.auto  # noqa: F401  (turns the marked functions above into kernels)
    main()
