"""Sum of a large array: a tree reduction in workgroup memory, one partial sum per workgroup, then a
second pass over the partials. Run: ``python examples/reduction.py``."""
from legionella.lang import Buffer, barrier, f32, global_id, group_id, local_id, shared


# legionella: kernel workgroup=(256,)
def block_sum(x: Buffer[f32], partial: Buffer[f32]):
    tile = shared(f32, 256)
    lid = local_id().x
    i = global_id().x
    if i < len(x):
        tile[lid] = x[i]
    else:
        tile[lid] = 0.0
    barrier()
    stride = 128
    while stride > 0:
        if lid < stride:
            tile[lid] += tile[lid + stride]
        barrier()
        stride //= 2
    if lid == 0:
        partial[group_id().x] = tile[0]


def device_sum(x):
    """The sum of a float32 lg.Array, reduced on the device down to one value."""
    import legionella as lg
    while x.size > 1:
        partial = lg.empty((x.size + 255) // 256, dtype="float32")
        block_sum[x.size](x, partial)
        x = partial
    return float(x.numpy()[0])


def main(n=1_000_000):
    import numpy as np
    import legionella as lg

    values = np.random.default_rng(0).random(n, dtype=np.float32)
    total = device_sum(lg.array(values))
    expected = float(values.astype(np.float64).sum())
    assert abs(total - expected) <= 1e-4 * expected, (total, expected)
    print(f"sum of {n:,} floats on {lg.device().name}: {total:.1f} (numpy: {expected:.1f})")


if __name__ == "__main__":
    import legionella.auto  # noqa: F401  (turns the marked functions above into kernels)
    main()
