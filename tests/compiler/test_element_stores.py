"""Component stores into buffer elements (``a[i].w = s``, ``a[i].xy += v``, ``a[i][2] = s``,
``ps[i].vel.y = s``) and vector fields of struct elements: the device and ``kernel.emulate`` agree, and a
copy (``v = a[i]; v.w = s``) never changes the buffer on either side."""
import dataclasses

import numpy as np
import pytest

import legionella as lg
from legionella.errors import CompileError
from legionella.lang import (Buffer, barrier, f32, global_id, i32, ivec2, ivec4, local_id, shared, u32, vec2,
                             vec3, vec4)
from legionella.lang.types import struct_type

import snippets
from differential import run_both


@lg.kernel(workgroup=(4,))
def vector_element_stores(a: Buffer[vec4], copies: Buffer[vec4]):
    i = global_id().x
    if i < len(a):
        a[i].w = 3.0
        a[i].x += 1.0
        a[i].yz = a[i].zy         # the value is read before either component is stored: a swap
        a[i][2] += 10.0
        a[i].xy += vec2(0.5, 0.25)
        v = a[i]                  # a copy: storing into it leaves a[i] alone
        v.w = 100.0
        v[0] = -1.0
        copies[i] = v


def test_every_component_store_form_into_a_vec4_element():
    a = np.arange(16, dtype=np.float32).reshape(4, 4)
    stored, copies = run_both(vector_element_stores, 4, a, np.zeros((4, 4), np.float32))
    # row k starts as (4k, 4k+1, 4k+2, 4k+3)
    expected = np.stack([a[:, 0] + 1.5, a[:, 2] + 0.25, a[:, 1] + 10.0, np.full(4, 3.0)], axis=1)
    np.testing.assert_array_equal(stored, expected)
    np.testing.assert_array_equal(copies[:, 1:3], expected[:, 1:3])
    assert copies[:, 0].tolist() == [-1.0] * 4 and copies[:, 3].tolist() == [100.0] * 4


@lg.kernel(workgroup=(4,))
def int_and_nd_element_stores(iv: Buffer[ivec2], grid: Buffer[ivec4, 2]):
    i = global_id().x
    if i < len(iv):
        iv[i].y = i * 3
        iv[i][0] -= 7
        for j in range(grid.shape[1]):
            grid[i, j].w = dot4(grid[i, j])
            grid[i, j].zx = ivec2(j, i)


def dot4(v):
    return v.x + v.y + v.z + v.w


def test_int_vectors_n_d_buffers_and_a_helper():
    iv = np.arange(8, dtype=np.int32).reshape(4, 2)
    grid = np.arange(4 * 3 * 4, dtype=np.int32).reshape(4, 3, 4)
    out_iv, out_grid = run_both(int_and_nd_element_stores, 4, iv, grid)
    assert out_iv.tolist() == [[0 - 7, 0], [2 - 7, 3], [4 - 7, 6], [6 - 7, 9]]
    assert out_grid[1, 2].tolist() == [1, grid[1, 2, 1], 2, grid[1, 2].sum()]


def set_w(a, i, value):
    a[i].w = value


@lg.kernel(workgroup=(4,))
def store_through_helper(a: Buffer[vec4]):
    i = global_id().x
    if i < len(a):
        set_w(a, i, f32(i))
        a[i,
          ].y = 2.0               # a target over two lines


def test_a_store_in_a_helper_and_a_target_over_two_lines():
    a, = run_both(store_through_helper, 4, np.zeros((4, 4), np.float32))
    assert a[:, 3].tolist() == [0, 1, 2, 3] and a[:, 1].tolist() == [2.0] * 4


@lg.kernel(workgroup=(4,))
def shared_vector_stores(out: Buffer[vec4]):
    tile = shared(vec4, 4)
    k = local_id().x
    tile[k] = vec4(1.0)
    tile[k].y = f32(k)
    tile[k].zw = vec2(5.0, 6.0)
    barrier()
    out[global_id().x] = tile[3 - k]


def test_component_stores_into_shared_vectors():
    out, = run_both(shared_vector_stores, 4, np.zeros((4, 4), np.float32))
    assert out[:, 1].tolist() == [3, 2, 1, 0]


@dataclasses.dataclass
class Inner:
    dir: vec4
    tag: i32


@dataclasses.dataclass
class Body:
    pos: vec4
    mass: f32
    vel: vec3
    ids: ivec4
    inner: Inner


@lg.kernel(workgroup=(4,))
def struct_vector_fields(bs: Buffer[Body], out: Buffer[f32, 2]):
    i = global_id().x
    if i < len(bs):
        p = bs[i].pos             # a copy, taken before the stores below
        out[i, 0] = bs[i].pos.y
        out[i, 1] = bs[i].pos.wzyx.x + f32(bs[i].ids.z)
        out[i, 2] = bs[i].inner.dir.z + bs[i].vel[2]
        bs[i].vel.y = 7.0
        bs[i].pos.xw = bs[i].pos.wx
        bs[i].vel[0] += 1.0
        bs[i].ids.w = bs[i].ids.x * 2
        bs[i].inner.dir.x = bs[i].mass
        bs[i].pos = bs[i].pos * 2.0
        out[i, 3] = p.x + length3(bs[i].vel.xyz)


def length3(v):
    return v.x + v.y + v.z


def test_vector_fields_of_struct_elements_read_as_vectors_and_store_like_the_device():
    bs = np.zeros(4, struct_type(Body).dtype)
    rng = np.random.default_rng(3)
    bs["pos"] = rng.standard_normal((4, 4))
    bs["mass"] = np.arange(4) + 0.5
    bs["vel"] = rng.standard_normal((4, 3))
    bs["ids"] = np.arange(16).reshape(4, 4)
    bs["inner"]["dir"] = rng.standard_normal((4, 4))
    device_bs = lg.array(bs)
    device_out = lg.zeros((4, 4), np.float32)
    struct_vector_fields[4](device_bs, device_out)
    host_bs, host_out = bs.copy(), np.zeros((4, 4), np.float32)
    struct_vector_fields.emulate[4](host_bs, host_out)
    np.testing.assert_allclose(device_out.numpy(), host_out, rtol=1e-6)
    for name in ("pos", "mass", "vel", "ids"):
        np.testing.assert_allclose(device_bs.numpy()[name], host_bs[name], rtol=1e-6)
    np.testing.assert_allclose(device_bs.numpy()["inner"]["dir"], host_bs["inner"]["dir"], rtol=1e-6)
    assert host_bs["vel"][:, 1].tolist() == [7.0] * 4
    assert host_bs["ids"][:, 3].tolist() == (np.arange(4) * 8).tolist()
    np.testing.assert_array_equal(host_bs["pos"], np.stack([bs["pos"][:, 3], bs["pos"][:, 1], bs["pos"][:, 2],
                                                            bs["pos"][:, 0]], axis=1) * 2)
    np.testing.assert_array_equal(host_out[:, 0], bs["pos"][:, 1])


# ---- what stays an error, with its place -----------------------------------------------------------------

HEADER = "from legionella.lang import *\n"

REFUSED = [
    ("repeated-component", """
        def k(a: Buffer[vec4]):
            a[0].xx = vec2(1.0, 2.0)
        """, "cannot assign 'xx' of a vec4", 2, 5),
    ("runtime-component-index", """
        def k(a: Buffer[vec4], n: i32):
            a[0][n] = 1.0
        """, "a vector component index must be a literal 0..3", 2, 10),
    ("vector-into-one-component", """
        def k(a: Buffer[vec4]):
            a[0].x = vec2(1.0, 2.0)
        """, "cannot convert vec2 to f32", 2, 14),
    ("no-such-component", """
        def k(a: Buffer[vec2]):
            a[0].z = 1.0
        """, "cannot assign 'z' of a vec2", 2, 5),
    ("column-of-a-matrix-element", """
        def k(a: Buffer[mat4]):
            a[0][1] = vec4(1.0)
        """, "store a whole matrix into a buffer element (a[i] = m)", 2, 5),
]


@pytest.mark.parametrize("snippet, fragment, line, col", [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_component_store_errors_name_the_place(snippet, fragment, line, col, tmp_path):
    with pytest.raises(CompileError) as info:
        snippets.compile_snippet(HEADER, snippet, tmp_path)
    err = info.value
    assert fragment in str(err)
    assert (err.lineno - HEADER.count("\n"), err.col) == (line, col), str(err)
    assert "^" in str(err) and "in kernel 'k'" in str(err)
