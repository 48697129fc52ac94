"""Kernels that only the benchmarks use; the others come from examples/."""
from legionella.lang import (Buffer, barrier, f32, global_id, group_id, local_id, num_groups, shared,
                             subgroup_add, subgroup_size)


# legionella: kernel
def copy(src: Buffer[f32], dst: Buffer[f32]):
    i = global_id().x
    if i < len(dst):
        dst[i] = src[i]


# legionella: kernel workgroup=(256,)
def sum_blocks(x: Buffer[f32], partial: Buffer[f32]):
    """Each workgroup sums a grid-strided share of ``x`` into ``partial[group]``: a running sum per
    invocation (four loads per step), then a subgroup sum, then one slot per subgroup in workgroup memory."""
    per_subgroup = shared(f32, 256)
    lid = local_id().x
    i = global_id().x
    stride = num_groups().x * 256
    n = len(x)
    acc = 0.0
    while i + 3 * stride < n:  # four independent loads in flight per step
        acc += (x[i] + x[i + stride]) + (x[i + 2 * stride] + x[i + 3 * stride])
        i += 4 * stride
    while i < n:
        acc += x[i]
        i += stride
    lanes = subgroup_size()
    total = subgroup_add(acc)
    if lid % lanes == 0:
        per_subgroup[lid // lanes] = total
    barrier()
    if lid == 0:
        s = 0.0
        for k in range(256 // lanes):
            s += per_subgroup[k]
        partial[group_id().x] = s


def device_sum(x, partial, groups=1024):
    """Sum a float32 lg.Array in two launches of ``sum_blocks``; ``partial`` holds ``groups`` floats."""
    sum_blocks[groups * 256](x, partial)
    sum_blocks[256](partial, partial)
