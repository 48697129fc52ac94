"""Kernels the runtime tests launch, compiled by Legionella's own compiler."""
from legionella import kernel
from legionella.lang import Buffer, f32, global_id, i32, i64, u32, vec2, vec4


@kernel(workgroup=(64,))
def inc_into(dst: Buffer[i32], src: Buffer[i32]):
    i = global_id().x
    if i < len(dst):
        dst[i] = src[i] + 1


@kernel(workgroup=(64,))
def axpy(y: Buffer[f32], x: Buffer[f32], a: f32):
    i = global_id().x
    if i < len(y):
        y[i] = a * x[i] + y[i]


@kernel(workgroup=(64,))
def iota(out: Buffer[i32]):
    i = global_id().x
    if i < len(out):
        out[i] = i


@kernel(workgroup=(64,))
def double_vec4(a: Buffer[vec4]):
    i = global_id().x
    if i < len(a):
        a[i] = a[i] * 2.0


@kernel(workgroup=(64,))
def spin(out: Buffer[u32], steps: u32):
    """``out[i]`` = an LCG run ``steps`` times from 1: a kernel that takes long.
    lavapipe stops any loop after 65,535 iterations, so tests keep ``steps`` at or below that."""
    i = global_id().x
    if i < len(out):
        acc = u32(1)
        for _ in range(steps):
            acc = acc * u32(1664525) + u32(1013904223)
        out[i] = acc


@kernel(workgroup=(8, 8))
def index_2d(out: Buffer[i32, 2]):
    g = global_id()
    if g.x < out.shape[0] and g.y < out.shape[1]:
        out[g.x, g.y] = g.x * 1000 + g.y


@kernel(workgroup=(64,))
def mixed_scalars(out: Buffer[f32], v: vec2, flag: bool, big: i64):
    i = global_id().x
    if i < len(out):
        if flag:
            out[i] = v.x + v.y * 10.0 + f32(big - 8589934592)  # 2**33: needs all 64 bits
        else:
            out[i] = -1.0
