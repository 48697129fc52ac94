"""C = A @ B, register-tiled: each invocation computes a 4x4 block of C from 64x16 and 16x64 tiles of A and
B staged in workgroup memory, so every value loaded from shared memory feeds four multiply-adds.
Run: ``python examples/sgemm.py``."""
from legionella.lang import Buffer, barrier, f32, group_id, local_id, shared, vec4

TILE = 64  # rows and columns of C per workgroup
DEPTH = 16  # the k-extent of the tiles staged per step


def load_tiles(a, b, tile_a, tile_b, tid, row0, col0, t):
    """Stage A[row0:row0+64, t:t+16] (transposed) and B[t:t+16, col0:col0+64]; zeros past the edges."""
    for s in range(4):
        e = tid + s * 256
        r = e // DEPTH
        k = e % DEPTH
        if row0 + r < a.shape[0] and t + k < a.shape[1]:
            tile_a[k, r] = a[row0 + r, t + k]
        else:
            tile_a[k, r] = 0.0
        k2 = e // TILE
        col = e % TILE
        if t + k2 < b.shape[0] and col0 + col < b.shape[1]:
            tile_b[k2, col] = b[t + k2, col0 + col]
        else:
            tile_b[k2, col] = 0.0


def store_row(c, row, col, acc):
    """Write the four values of ``acc`` to C[row, col:col+4], inside C's bounds."""
    if row < c.shape[0]:
        if col < c.shape[1]:
            c[row, col] = acc.x
        if col + 1 < c.shape[1]:
            c[row, col + 1] = acc.y
        if col + 2 < c.shape[1]:
            c[row, col + 2] = acc.z
        if col + 3 < c.shape[1]:
            c[row, col + 3] = acc.w


# legionella: kernel workgroup=(16, 16)
def sgemm(a: Buffer[f32, 2], b: Buffer[f32, 2], c: Buffer[f32, 2]):
    tile_a = shared(f32, (DEPTH, TILE))
    tile_b = shared(f32, (DEPTH, TILE))
    l = local_id()
    g = group_id()
    tid = l.y * 16 + l.x
    row0 = g.y * TILE
    col0 = g.x * TILE
    acc0 = vec4(0.0)
    acc1 = vec4(0.0)
    acc2 = vec4(0.0)
    acc3 = vec4(0.0)
    for t in range(0, a.shape[1], DEPTH):
        load_tiles(a, b, tile_a, tile_b, tid, row0, col0, t)
        barrier()
        for k in range(DEPTH):
            r = l.y * 4
            cc = l.x * 4
            bv = vec4(tile_b[k, cc], tile_b[k, cc + 1], tile_b[k, cc + 2], tile_b[k, cc + 3])
            acc0 += tile_a[k, r] * bv
            acc1 += tile_a[k, r + 1] * bv
            acc2 += tile_a[k, r + 2] * bv
            acc3 += tile_a[k, r + 3] * bv
        barrier()
    row = row0 + l.y * 4
    col = col0 + l.x * 4
    store_row(c, row, col, acc0)
    store_row(c, row + 1, col, acc1)
    store_row(c, row + 2, col, acc2)
    store_row(c, row + 3, col, acc3)


def launch(a, b, c):
    """Enqueue C = A @ B: one workgroup per 64x64 block of C, so 16 x 16 invocations per block."""
    m, n = c.shape
    sgemm[-(-n // TILE) * 16, -(-m // TILE) * 16](a, b, c)


def main(m=200, k=300, n=100):
    import numpy as np
    import legionella as lg

    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    c = lg.zeros((m, n), dtype=np.float32)
    launch(lg.array(a), lg.array(b), c)
    np.testing.assert_allclose(c.numpy(), a @ b, rtol=1e-4, atol=1e-4)
    print(f"register-tiled sgemm {m}x{k} @ {k}x{n} on {lg.device().name}: matches numpy")


if __name__ == "__main__":
    import legionella.auto  # noqa: F401  (turns the marked functions above into kernels)
    main()
