"""A 64-bin histogram: per-workgroup counts in workgroup memory with atomics, merged into the global
histogram with one atomic add per bin and workgroup. Run: ``python examples/histogram.py``."""
from legionella.lang import Buffer, atomic_add, barrier, f32, global_id, i32, local_id, shared, u32

BINS = 64


# legionella: kernel workgroup=(256,)
def histogram(values: Buffer[f32], counts: Buffer[u32]):
    local_counts = shared(u32, BINS)
    lid = local_id().x
    if lid < BINS:
        local_counts[lid] = u32(0)
    barrier()
    i = global_id().x
    if i < len(values):
        b = min(max(i32(values[i] * BINS), 0), BINS - 1)
        atomic_add(local_counts, b, u32(1))
    barrier()
    if lid < BINS:
        atomic_add(counts, lid, local_counts[lid])


def main(n=1_000_000):
    import numpy as np
    import legionella as lg

    values = np.random.default_rng(0).random(n, dtype=np.float32)
    counts = lg.zeros(BINS, dtype=np.uint32)
    histogram[n](lg.array(values), counts)
    expected = np.bincount(np.clip((values * BINS).astype(np.int32), 0, BINS - 1), minlength=BINS)
    assert np.array_equal(counts.numpy(), expected)
    print(f"histogram of {n:,} values into {BINS} bins on {lg.device().name}: matches numpy")


if __name__ == "__main__":
    import legionella.auto  # noqa: F401  (turns the marked functions above into kernels)
    main()
