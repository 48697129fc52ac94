"""y = a * x + y, the hello-world of GPU computing. Run: ``python examples/saxpy.py``."""
from legionella.lang import Buffer, f32, global_id


# legionella: kernel workgroup=(256,)
def saxpy(a: f32, x: Buffer[f32], y: Buffer[f32]):
    i = global_id().x
    if i < len(y):
        y[i] = a * x[i] + y[i]


def main(n=1_000_000):
    import numpy as np
    import legionella as lg

    x = np.arange(n, dtype=np.float32)
    y = np.ones(n, dtype=np.float32)
    dx, dy = lg.array(x), lg.array(y)
    saxpy[n](2.0, dx, dy)
    result = dy.numpy()
    np.testing.assert_allclose(result, 2.0 * x + y, rtol=1e-6)
    print(f"saxpy on {lg.device().name}: {n:,} elements, result checked")


if __name__ == "__main__":
    import legionella.auto  # noqa: F401  (turns the marked functions above into kernels)
    main()
