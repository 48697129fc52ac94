"""C = A @ B, register-tiled: each of a workgroup's 16x16 invocations computes an 8x8 block of C (16 vec4
accumulators) of the workgroup's 128x128 block, from 8-deep tiles of A and B staged in workgroup memory.
A is staged transposed, so that per step of k an invocation reads two vec4s of A and two of B (four
128-bit shared loads) for 64 multiply-adds. The tiles are double-buffered: the next tiles are loaded from
memory into registers while the current ones are multiplied, then stored to the other buffer, so one
barrier per step suffices. Workgroups inside C skip the bounds checks. Run: ``python examples/sgemm.py``.
"""
from legionella.lang import Buffer, barrier, f32, group_id, local_id, shared, vec4

TILE_M = 128  # rows of C per workgroup: 16 invocations x (4 + 4) rows, the halves 64 rows apart
TILE_N = 128  # columns of C per workgroup: 16 invocations x (4 + 4) columns, the halves 64 apart
DEPTH = 8  # the k-extent of the tiles staged per step: 8 x 128 floats of A and of B, one vec4 each
QUADS = TILE_M // 4  # vec4s per k in a tile row (32); DEPTH x QUADS vec4s: one per invocation (256)
PAD = 1  # one vec4 more per row of A's tile: the transposed stores then spread over the banks


def column_of_four(a, row, k, unchecked):
    """A[row:row+4, k] as a vec4; zeros past A's edges unless ``unchecked`` (all four inside A)."""
    v = vec4(0.0)
    if unchecked:
        v = vec4(a[row, k], a[row + 1, k], a[row + 2, k], a[row + 3, k])
    elif k < a.shape[1]:
        if row < a.shape[0]:
            v.x = a[row, k]
        if row + 1 < a.shape[0]:
            v.y = a[row + 1, k]
        if row + 2 < a.shape[0]:
            v.z = a[row + 2, k]
        if row + 3 < a.shape[0]:
            v.w = a[row + 3, k]
    return v


def row_of_four(b, k, col, unchecked):
    """B[k, col:col+4] as a vec4; zeros past B's edges unless ``unchecked`` (all four inside B)."""
    v = vec4(0.0)
    if unchecked:
        v = vec4(b[k, col], b[k, col + 1], b[k, col + 2], b[k, col + 3])
    elif k < b.shape[0]:
        if col < b.shape[1]:
            v.x = b[k, col]
        if col + 1 < b.shape[1]:
            v.y = b[k, col + 1]
        if col + 2 < b.shape[1]:
            v.z = b[k, col + 2]
        if col + 3 < b.shape[1]:
            v.w = b[k, col + 3]
    return v


def store_row(c, row, col, acc, unchecked):
    """Write the four values of ``acc`` to C[row, col:col+4], inside C's bounds unless ``unchecked``."""
    if unchecked:
        c[row, col] = acc.x
        c[row, col + 1] = acc.y
        c[row, col + 2] = acc.z
        c[row, col + 3] = acc.w
    elif row < c.shape[0]:
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
    # two buffers of each tile: rows [0, DEPTH) and [DEPTH, 2 * DEPTH)
    tile_a = shared(vec4, (2 * DEPTH, QUADS + PAD))  # tile_a[k, q] = A[row0 + 4q : row0 + 4q + 4, t + k]
    tile_b = shared(vec4, (2 * DEPTH, QUADS))  # tile_b[k, q] = B[t + k, col0 + 4q : col0 + 4q + 4]
    l = local_id()
    g = group_id()
    tid = l.y * 16 + l.x
    row0 = g.y * TILE_M
    col0 = g.x * TILE_N
    depth = a.shape[1]
    inside = row0 + TILE_M <= a.shape[0] and col0 + TILE_N <= b.shape[1]  # the same for the workgroup
    # what this invocation loads per step: neighbours take consecutive k of A, consecutive vec4s of B
    ka = tid % DEPTH
    qa = tid // DEPTH
    kb = tid // QUADS
    qb = tid % QUADS
    tile_a[ka, qa] = column_of_four(a, row0 + 4 * qa, ka, inside and DEPTH <= depth)
    tile_b[kb, qb] = row_of_four(b, kb, col0 + 4 * qb, inside and DEPTH <= depth)
    barrier()
    c00 = vec4(0.0)
    c01 = vec4(0.0)
    c10 = vec4(0.0)
    c11 = vec4(0.0)
    c20 = vec4(0.0)
    c21 = vec4(0.0)
    c30 = vec4(0.0)
    c31 = vec4(0.0)
    c40 = vec4(0.0)
    c41 = vec4(0.0)
    c50 = vec4(0.0)
    c51 = vec4(0.0)
    c60 = vec4(0.0)
    c61 = vec4(0.0)
    c70 = vec4(0.0)
    c71 = vec4(0.0)
    current = 0  # the buffer holding the tiles of this step: 0 or DEPTH
    for t in range(0, depth, DEPTH):
        following = t + DEPTH
        more = following < depth
        next_a = vec4(0.0)
        next_b = vec4(0.0)
        if more:  # issue the next step's loads now; they land while this step's tiles are multiplied
            unchecked = inside and following + DEPTH <= depth
            next_a = column_of_four(a, row0 + 4 * qa, following + ka, unchecked)
            next_b = row_of_four(b, following + kb, col0 + 4 * qb, unchecked)
        for k in range(DEPTH):
            a_lo = tile_a[current + k, l.y]  # rows 4 l.y .. 4 l.y + 3 of the block
            a_hi = tile_a[current + k, l.y + 16]  # rows 64 + 4 l.y .. 64 + 4 l.y + 3
            b_lo = tile_b[current + k, l.x]  # columns 4 l.x .. 4 l.x + 3
            b_hi = tile_b[current + k, l.x + 16]  # columns 64 + 4 l.x .. 64 + 4 l.x + 3
            c00 += a_lo.x * b_lo
            c01 += a_lo.x * b_hi
            c10 += a_lo.y * b_lo
            c11 += a_lo.y * b_hi
            c20 += a_lo.z * b_lo
            c21 += a_lo.z * b_hi
            c30 += a_lo.w * b_lo
            c31 += a_lo.w * b_hi
            c40 += a_hi.x * b_lo
            c41 += a_hi.x * b_hi
            c50 += a_hi.y * b_lo
            c51 += a_hi.y * b_hi
            c60 += a_hi.z * b_lo
            c61 += a_hi.z * b_hi
            c70 += a_hi.w * b_lo
            c71 += a_hi.w * b_hi
        current = DEPTH - current
        if more:  # the other buffer: nobody reads it before the barrier below
            tile_a[current + ka, qa] = next_a
            tile_b[current + kb, qb] = next_b
        barrier()
    row = row0 + 4 * l.y
    col = col0 + 4 * l.x
    store_row(c, row, col, c00, inside)
    store_row(c, row, col + 64, c01, inside)
    store_row(c, row + 1, col, c10, inside)
    store_row(c, row + 1, col + 64, c11, inside)
    store_row(c, row + 2, col, c20, inside)
    store_row(c, row + 2, col + 64, c21, inside)
    store_row(c, row + 3, col, c30, inside)
    store_row(c, row + 3, col + 64, c31, inside)
    store_row(c, row + 64, col, c40, inside)
    store_row(c, row + 64, col + 64, c41, inside)
    store_row(c, row + 65, col, c50, inside)
    store_row(c, row + 65, col + 64, c51, inside)
    store_row(c, row + 66, col, c60, inside)
    store_row(c, row + 66, col + 64, c61, inside)
    store_row(c, row + 67, col, c70, inside)
    store_row(c, row + 67, col + 64, c71, inside)


def launch(a, b, c):
    """Enqueue C = A @ B: one 16x16 workgroup per 128x128 block of C."""
    m, n = c.shape
    sgemm[-(-n // TILE_N) * 16, -(-m // TILE_M) * 16](a, b, c)


def main(shapes=((200, 300, 100), (128, 16, 128), (257, 33, 65), (256, 24, 384), (3, 0, 5))):
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
