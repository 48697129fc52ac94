"""C = A @ B, register-tiled: each invocation computes an 8x4 block of C from 128x16 and 16x64 tiles of A
and B staged in workgroup memory as vec4s, so one 128-bit shared load of B feeds eight vector
multiply-adds. Run: ``python examples/sgemm.py``."""
from legionella.lang import Buffer, barrier, f32, group_id, local_id, shared, vec4

TILE_M = 128  # rows of C per workgroup (16 invocations x 8 rows)
TILE_N = 64  # columns of C per workgroup (16 invocations x 4 columns)
DEPTH = 16  # the k-extent of the tiles staged per step


def column_of_four(a, row, k):
    """A[row:row+4, k] as a vec4, zeros past A's edges."""
    v = vec4(0.0)
    if k < a.shape[1]:
        if row < a.shape[0]:
            v.x = a[row, k]
        if row + 1 < a.shape[0]:
            v.y = a[row + 1, k]
        if row + 2 < a.shape[0]:
            v.z = a[row + 2, k]
        if row + 3 < a.shape[0]:
            v.w = a[row + 3, k]
    return v


def row_of_four(b, k, col):
    """B[k, col:col+4] as a vec4, zeros past B's edges."""
    v = vec4(0.0)
    if k < b.shape[0]:
        if col < b.shape[1]:
            v.x = b[k, col]
        if col + 1 < b.shape[1]:
            v.y = b[k, col + 1]
        if col + 2 < b.shape[1]:
            v.z = b[k, col + 2]
        if col + 3 < b.shape[1]:
            v.w = b[k, col + 3]
    return v


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
    tile_a = shared(vec4, (DEPTH, TILE_M // 4))  # tile_a[k, q] = A[row0 + 4q : row0 + 4q + 4, t + k]
    tile_b = shared(vec4, (DEPTH, TILE_N // 4))  # tile_b[k, q] = B[t + k, col0 + 4q : col0 + 4q + 4]
    l = local_id()
    g = group_id()
    tid = l.y * 16 + l.x
    row0 = g.y * TILE_M
    col0 = g.x * TILE_N
    acc0 = vec4(0.0)
    acc1 = vec4(0.0)
    acc2 = vec4(0.0)
    acc3 = vec4(0.0)
    acc4 = vec4(0.0)
    acc5 = vec4(0.0)
    acc6 = vec4(0.0)
    acc7 = vec4(0.0)
    for t in range(0, a.shape[1], DEPTH):
        for s in range(2):  # 16 x 32 vec4s of A: two per invocation, consecutive k for neighbours
            e = tid + s * 256
            tile_a[e % DEPTH, e // DEPTH] = column_of_four(a, row0 + 4 * (e // DEPTH), t + e % DEPTH)
        q = tid % (TILE_N // 4)  # 16 x 16 vec4s of B: one per invocation
        tile_b[tid // (TILE_N // 4), q] = row_of_four(b, t + tid // (TILE_N // 4), col0 + 4 * q)
        barrier()
        for k in range(DEPTH):
            bv = tile_b[k, l.x]
            lo = tile_a[k, l.y * 2]
            hi = tile_a[k, l.y * 2 + 1]
            acc0 += lo.x * bv
            acc1 += lo.y * bv
            acc2 += lo.z * bv
            acc3 += lo.w * bv
            acc4 += hi.x * bv
            acc5 += hi.y * bv
            acc6 += hi.z * bv
            acc7 += hi.w * bv
        barrier()
    row = row0 + l.y * 8
    col = col0 + l.x * 4
    store_row(c, row, col, acc0)
    store_row(c, row + 1, col, acc1)
    store_row(c, row + 2, col, acc2)
    store_row(c, row + 3, col, acc3)
    store_row(c, row + 4, col, acc4)
    store_row(c, row + 5, col, acc5)
    store_row(c, row + 6, col, acc6)
    store_row(c, row + 7, col, acc7)


def launch(a, b, c):
    """Enqueue C = A @ B: one 16x16 workgroup per 128x64 block of C."""
    m, n = c.shape
    sgemm[-(-n // TILE_N) * 16, -(-m // TILE_M) * 16](a, b, c)


def main(shapes=((200, 300, 100), (128, 16, 64), (257, 33, 65))):
    import numpy as np
    import legionella as lg

    rng = np.random.default_rng(0)
    for m, k, n in shapes:
        a = rng.standard_normal((m, k)).astype(np.float32)
        b = rng.standard_normal((k, n)).astype(np.float32)
        c = lg.zeros((m, n), dtype=np.float32)
        launch(lg.array(a), lg.array(b), c)
        np.testing.assert_allclose(c.numpy(), a @ b, rtol=1e-4, atol=1e-4)
    print(f"register-tiled sgemm on {lg.device().name}: {len(shapes)} shapes match numpy")


if __name__ == "__main__":
    import legionella.auto  # noqa: F401  (turns the marked functions above into kernels)
    main()
