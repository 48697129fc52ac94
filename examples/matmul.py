"""C = A @ B with 16x16 tiles staged in workgroup memory. Run: ``python examples/matmul.py``."""
from legionella.lang import Buffer, barrier, f32, global_id, local_id, shared

TILE = 16


# legionella: kernel workgroup=(16, 16)
def matmul(a: Buffer[f32, 2], b: Buffer[f32, 2], c: Buffer[f32, 2]):
    tile_a = shared(f32, (TILE, TILE))
    tile_b = shared(f32, (TILE, TILE))
    g = global_id()
    l = local_id()
    row = g.y
    col = g.x
    n = a.shape[1]
    acc = 0.0
    for t in range(0, n, TILE):
        if row < a.shape[0] and t + l.x < n:
            tile_a[l.y, l.x] = a[row, t + l.x]
        else:
            tile_a[l.y, l.x] = 0.0
        if col < b.shape[1] and t + l.y < n:
            tile_b[l.y, l.x] = b[t + l.y, col]
        else:
            tile_b[l.y, l.x] = 0.0
        barrier()
        for k in range(TILE):
            acc += tile_a[l.y, k] * tile_b[k, l.x]
        barrier()
    if row < c.shape[0] and col < c.shape[1]:
        c[row, col] = acc


def main(m=200, k=300, n=100):
    import numpy as np
    import legionella as lg

    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    c = lg.zeros((m, n), dtype=np.float32)
    matmul[n, m](lg.array(a), lg.array(b), c)
    np.testing.assert_allclose(c.numpy(), a @ b, rtol=1e-4, atol=1e-4)
    print(f"matmul {m}x{k} @ {k}x{n} on {lg.device().name}: matches numpy")


if __name__ == "__main__":
    import legionella.auto  # noqa: F401  (turns the marked functions above into kernels)
    main()
