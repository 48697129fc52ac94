"""Kernels that only the benchmarks use; the others come from examples/."""
from legionella.lang import Buffer, f32, global_id


# legionella: kernel
def copy(src: Buffer[f32], dst: Buffer[f32]):
    i = global_id().x
    if i < len(dst):
        dst[i] = src[i]
