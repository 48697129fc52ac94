"""Differential tests of vectors (constructors, swizzles, arithmetic, dot/cross/length/normalize),
n-D buffers with shape and len, Buffer[vec4] and struct elements."""
import dataclasses

import numpy as np
import pytest

import legionella as lg
from legionella.lang import (Buffer, cross, dot, f32, global_id, i32, i64, ivec2, ivec4, length, mix, normalize,
                             u32, uvec4, vec2, vec3, vec4, clamp, select, fma)
from differential import run_both

N = 24


@lg.kernel
def vector_math(pos: Buffer[vec4], out: Buffer[vec4], s: Buffer[f32, 2]):
    i = global_id().x
    if i < len(pos):
        p = pos[i]
        d = p.xyz - vec3(0.5, 0.25, 1.0)
        n = normalize(d + 3.0)
        c = cross(n, vec3(0.0, 1.0, 0.0))
        w = p.zyxw * 2.0 + 1
        w.x = length(d)
        w.yz = p.xx
        out[i] = vec4(c, dot(d, d)) + w * 0.5
        s[i, 0] = pos[i].w + p[1]
        s[i, 1] = mix(p.x, p.y, 0.25)
        s[i, 2] = clamp(p.z, -0.5, 0.5)
        s[i, 3] = select(p.x > p.y, p.x, p.y)
        s[i, 4] = fma(p.x, p.y, p.z)
        v = ivec2(i, 3) * 2
        s[i, 5] = f32(v.x + v.y)


def test_vectors_swizzles_and_geometric_functions():
    pos = np.random.default_rng(0).standard_normal((N, 4)).astype(np.float32)
    run_both(vector_math, N, pos, np.zeros((N, 4), np.float32), np.zeros((N, 6), np.float32),
             rtol=1e-5, atol=1e-5)


@lg.kernel
def transpose3(src: Buffer[i32, 3], dst: Buffer[i32, 3]):
    g = global_id()
    if g.x < src.shape[2] and g.y < src.shape[1] and g.z < src.shape[0]:
        dst[g.x, g.y, g.z] = src[g.z, g.y, g.x] + src.shape[0] * 1000 + len(src)


def test_3d_buffers_shape_and_len():
    src = np.arange(5 * 6 * 7, dtype=np.int32).reshape(5, 6, 7)
    run_both(transpose3, (7, 6, 5), src, np.zeros((7, 6, 5), np.int32))


@dataclasses.dataclass
class Particle:
    pos: vec3
    mass: f32
    vel: vec2
    id: u32


@lg.kernel
def particles(ps: Buffer[Particle], out: Buffer[f32]):
    i = global_id().x
    if i < len(ps):
        ps[i].pos = ps[i].pos * 2.0 + ps[i].mass
        ps[i].mass += 1.0
        ps[i].id = ps[i].id * u32(2) + u32(1)
        out[i] = ps[i].mass * f32(ps[i].id)


def test_struct_elements_std430():
    from legionella.lang.types import struct_type
    dtype = struct_type(Particle).dtype
    ps = np.zeros(N, dtype=dtype)
    rng = np.random.default_rng(1)
    ps["pos"] = rng.standard_normal((N, 3))
    ps["mass"] = rng.uniform(1, 2, N)
    ps["vel"] = rng.standard_normal((N, 2))
    ps["id"] = np.arange(N) * 3
    d_ps, d_out = lg.array(ps), lg.zeros(N, dtype=np.float32)
    particles[N](d_ps, d_out)
    h_ps, h_out = ps.copy(), np.zeros(N, np.float32)
    particles.emulate[N](h_ps, h_out)
    for field in ("pos", "mass", "vel", "id"):
        np.testing.assert_allclose(d_ps.numpy()[field], h_ps[field], rtol=1e-6)
    np.testing.assert_allclose(d_out.numpy(), h_out, rtol=1e-6)


@lg.kernel
def ids(out: Buffer[i32, 2]):
    g = global_id()
    if g.x < out.shape[1] and g.y < out.shape[0]:
        from_groups = 0
        out[g.y, g.x] = g.x + 100 * g.y + from_groups


def test_two_dimensional_grid_uses_16x16():
    assert ids.compile().workgroup == (16, 16, 1)
    run_both(ids, (20, 18), np.zeros((18, 20), np.int32))


@lg.kernel
def parameters(out: Buffer[f32], v: vec4, flag: bool, k: u32, w: vec2):
    i = global_id().x
    if i < len(out):
        out[i] = v.x * f32(i) + v.w + (1.0 if flag else -1.0) + f32(k) + w.y


def test_vector_bool_and_unsigned_parameters_travel_in_push_constants():
    for flag in (True, False):
        out, = run_both(parameters, 8, np.zeros(8, np.float32), vec4(1, 2, 3, 4), flag, 7, vec2(0.5, 0.25))
        assert out[1] == 1 + 4 + (1 if flag else -1) + 7 + 0.25


@dataclasses.dataclass
class Inner:
    a: i32
    b: f32


@dataclasses.dataclass
class Outer:
    x: f32
    inner: Inner
    n: u32


@lg.kernel
def nested_structs_and_vector_grids(s: Buffer[Outer], grid: Buffer[vec4, 2], iv: Buffer[ivec2]):
    i = global_id().x
    if i < len(s):
        s[i].inner.a = s[i].inner.a * 2 + i32(s[i].n)
        s[i].x = s[i].inner.b + s[i].x
        iv[i] = iv[i] * 3 + ivec2(i, -i)
        if i < grid.shape[0]:
            for j in range(grid.shape[1]):
                grid[i, j] = grid[i, j].wzyx * f32(j)


def test_nested_structs_2d_vector_buffers_and_int_vectors():
    from legionella.lang.types import struct_type
    s = np.zeros(8, struct_type(Outer).dtype)
    s["x"] = np.arange(8)
    s["inner"]["a"] = np.arange(8) - 3
    s["inner"]["b"] = 0.5
    s["n"] = 7
    grid = np.random.default_rng(0).standard_normal((4, 5, 4)).astype(np.float32)
    iv = np.arange(16, dtype=np.int32).reshape(8, 2)
    run_both(nested_structs_and_vector_grids, 8, s, grid, iv)


from legionella.lang import f16  # noqa: E402


@lg.kernel
def half_precision(a: Buffer[f16], out: Buffer[f32]):
    i = global_id().x
    if i < len(a):
        out[i] = f32(a[i] * f16(2.0))
        a[i] = a[i] + f16(1.0)


def test_f16_buffers_where_the_device_has_them():
    if not lg.device().target.float16:
        pytest.skip("the device has no f16")
    run_both(half_precision, 8, np.arange(8, dtype=np.float16), np.zeros(8, np.float32))


@lg.kernel(workgroup=(1,))
def integer_vector_conversions(a: Buffer[ivec4], u: Buffer[uvec4], w: Buffer[i64], o: Buffer[ivec2]):
    u[0] = uvec4(a[0])  # negative components wrap, as the device converts them
    a[1] = ivec4(u[1])
    o[0] = ivec2(w[0], w[1])  # i64 components wrap into i32
    a[2] = ~a[0]
    u[2] = ~u[1]


def test_integer_vector_constructors_wrap_and_invert_like_the_device():
    a = np.array([[-1, -2, 3, -4], [0] * 4, [0] * 4], np.int32)
    u = np.array([[0] * 4, [2**32 - 1, 5, 2**31, 7], [0] * 4], np.uint32)
    _, u_out, _, o = run_both(integer_vector_conversions, 1, a, u, np.array([2**40 + 5, -3], np.int64),
                              np.zeros((1, 2), np.int32))
    assert u_out[0].tolist() == [2**32 - 1, 2**32 - 2, 3, 2**32 - 4] and o.tolist() == [[5, -3]]
