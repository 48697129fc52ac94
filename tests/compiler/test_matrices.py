"""Matrices: each construct runs on the device (lavapipe) and in ``kernel.emulate`` on the same inputs,
and both are checked against numpy on the host; should-fail snippets give located CompileErrors.

Host arrays for ``Buffer[matN]`` hold ``[j]`` = column ``j`` (std430), so a row-major numpy matrix ``M``
travels as ``M.T``; the helpers :func:`cols` and :func:`math_of` convert.
"""
import functools
import math

import numpy as np
import pytest

import legionella as lg
from legionella.compiler import Target, compile_kernel
from legionella.lang import (Buffer, determinant, f32, global_id, inverse, mat2, mat3, mat4, transpose, vec2,
                             vec3, vec4)
from differential import run_both
import snippets

N = 8
RTOL = 1e-5


def math_of(columns):
    """Row-major matrices (numpy's reading) from arrays of columns."""
    return np.swapaxes(columns, -1, -2)


cols = math_of  # the same swap turns row-major matrices into arrays of columns


def well_conditioned(n, size, seed):
    """Random float32 (size, n, n) matrices far from singular (so inverses agree to rtol 1e-5)."""
    rng = np.random.default_rng(seed)
    return (rng.uniform(-0.5, 0.5, (size, n, n)) + 2 * np.eye(n)).astype(np.float32)


def assert_close(got, expected):
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=1e-5)


# ---- constructors, columns, column assignment -------------------------------------------------------
@lg.kernel
def construct(src: Buffer[vec4], out: Buffer[mat4], picked: Buffer[vec4]):
    i = global_id().x
    if i < len(src):
        p = src[i]
        a = mat4(p, p.yzwx, p.zwxy, p.wxyz)
        b = mat4(p.x, 1.0, 2.0, 3.0, 4.0, p.y, 6.0, 7.0, 8.0, 9.0, p.z, 11.0, 12.0, 13, 14, p.w)
        c = mat4(p.x * 2.0)
        a[2] = p * 2.0
        a[-1] = b[1] + c[3]
        out[i] = a + b - c
        picked[i] = vec4(a[0].y, b[3].x, c[0].x, out[i][2].w)


def test_constructors_columns_and_column_assignment():
    src = np.random.default_rng(1).standard_normal((N, 4)).astype(np.float32)
    _, out, picked = run_both(construct, N, src, np.zeros((N, 4, 4), np.float32), np.zeros((N, 4), np.float32),
                           rtol=RTOL)
    expected, expected_picked = [], []
    for p in src:
        a = np.stack([p, np.roll(p, -1), np.roll(p, -2), np.roll(p, -3)])  # columns
        b = np.array([[p[0], 1, 2, 3], [4, p[1], 6, 7], [8, 9, p[2], 11], [12, 13, 14, p[3]]], np.float32)
        c = np.eye(4, dtype=np.float32) * (p[0] * 2)
        a[2] = p * 2
        a[3] = b[1] + c[3]
        expected.append(a + b - c)
        expected_picked.append([a[0, 1], b[3, 0], c[0, 0], (a + b - c)[2, 3]])
    assert_close(out, np.array(expected))
    assert_close(picked, np.array(expected_picked))


# ---- products and scalar operations ----------------------------------------------------------------
@lg.kernel
def products(ms: Buffer[mat4], vs: Buffer[vec4], mv: Buffer[vec4], vm: Buffer[vec4], mm: Buffer[mat4],
             scaled: Buffer[mat4]):
    i = global_id().x
    if i < len(ms):
        m = ms[i]
        n = ms[(i + 1) % len(ms)]
        v = vs[i]
        mv[i] = m @ v
        vm[i] = v @ m
        mm[i] = m @ n
        scaled[i] = m * 2.5 + 0.5 * n - m / 4.0


def test_matrix_vector_and_matrix_matrix_products_and_scalar_operations():
    rng = np.random.default_rng(2)
    ms = rng.standard_normal((N, 4, 4)).astype(np.float32)
    vs = rng.standard_normal((N, 4)).astype(np.float32)
    zeros_v, zeros_m = np.zeros((N, 4), np.float32), np.zeros((N, 4, 4), np.float32)
    _, _, mv, vm, mm, scaled = run_both(products, N, ms, vs, zeros_v, zeros_v, zeros_m, zeros_m, rtol=RTOL)
    m, n = math_of(ms), math_of(np.roll(ms, -1, axis=0))
    assert_close(mv, np.einsum("nrc,nc->nr", m, vs))
    assert_close(vm, np.einsum("nr,nrc->nc", vs, m))
    assert_close(mm, cols(m @ n))
    assert_close(scaled, ms * 2.5 + 0.5 * np.roll(ms, -1, axis=0) - ms / 4)


# ---- element-wise operations ---------------------------------------------------------------------
@lg.kernel
def elementwise(a: Buffer[mat2], b: Buffer[mat2], out: Buffer[mat2, 2], s: f32):
    i = global_id().x
    if i < len(a):
        m = a[i]
        n = b[i]
        out[i, 0] = m * n
        out[i, 1] = m - n
        out[i, 2] = -m
        out[i, 3] = m / s
        out[i, 4] = 1.0 - m
        acc = m
        acc += n
        acc @= n
        out[i, 5] = acc


def test_elementwise_operations_follow_numpy():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((N, 2, 2)).astype(np.float32)
    b = rng.standard_normal((N, 2, 2)).astype(np.float32)
    _, _, out = run_both(elementwise, N, a, b, np.zeros((N, 6, 2, 2), np.float32), 3.0, rtol=RTOL)
    assert_close(out[:, 0], a * b)
    assert_close(out[:, 1], a - b)
    assert_close(out[:, 2], -a)
    assert_close(out[:, 3], a / np.float32(3.0))
    assert_close(out[:, 4], 1 - a)
    assert_close(out[:, 5], cols(math_of(a + b) @ math_of(b)))


# ---- transpose, determinant, inverse ---------------------------------------------------------------
@lg.kernel
def linear_algebra(ms: Buffer[mat4], t: Buffer[mat4], inv: Buffer[mat4], det: Buffer[f32, 2],
                   small: Buffer[vec4, 2]):
    i = global_id().x
    if i < len(ms):
        m = ms[i]
        t[i] = transpose(m)
        inv[i] = inverse(m)
        m3 = mat3(m[0].xyz, m[1].xyz, m[2].xyz)
        m2 = mat2(m[0].xy, m[1].xy)
        det[i, 0] = determinant(m)
        det[i, 1] = determinant(m3)
        det[i, 2] = determinant(m2)
        i3 = inverse(m3)
        i2 = transpose(inverse(m2))
        small[i, 0] = vec4(i3[0], 0.0)
        small[i, 1] = vec4(i3[1], 0.0)
        small[i, 2] = vec4(i3[2], 0.0)
        small[i, 3] = vec4(i2[0], i2[1])


def test_transpose_determinant_and_inverse_match_numpy_linalg():
    m = well_conditioned(4, N, 4)
    ms = cols(m)
    _, t, inv, det, small = run_both(linear_algebra, N, ms, np.zeros_like(ms), np.zeros_like(ms),
                                  np.zeros((N, 3), np.float32), np.zeros((N, 4, 4), np.float32), rtol=RTOL,
                                  atol=1e-5)
    assert_close(t, cols(np.swapaxes(m, -1, -2)))
    assert_close(inv, cols(np.linalg.inv(m)))
    assert_close(det[:, 0], np.linalg.det(m))
    assert_close(det[:, 1], np.linalg.det(m[:, :3, :3]))
    assert_close(det[:, 2], np.linalg.det(m[:, :2, :2]))
    assert_close(small[:, :3, :3], cols(np.linalg.inv(m[:, :3, :3])))
    assert_close(small[:, 3], np.linalg.inv(m[:, :2, :2]).reshape(N, 4))


# ---- matrices through helpers -----------------------------------------------------------------------
def rotation(angle):
    c = math.cos(angle)
    s = math.sin(angle)
    return mat2(c, s, -s, c)


def transform(m: mat2, v):
    return m @ v, transpose(m)


@lg.kernel
def helpers(angles: Buffer[f32], points: Buffer[vec2], out: Buffer[vec2], back: Buffer[mat2]):
    i = global_id().x
    if i < len(angles):
        moved, t = transform(rotation(angles[i]), points[i])
        out[i] = moved
        back[i] = t


def test_matrices_as_helper_arguments_and_return_values():
    rng = np.random.default_rng(5)
    angles = rng.uniform(-3, 3, N).astype(np.float32)
    points = rng.standard_normal((N, 2)).astype(np.float32)
    _, _, out, back = run_both(helpers, N, angles, points, np.zeros_like(points), np.zeros((N, 2, 2), np.float32),
                         rtol=RTOL, atol=1e-6)
    c, s = np.cos(angles), np.sin(angles)
    rotations = np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)  # row-major
    assert_close(out, np.einsum("nrc,nc->nr", rotations, points))
    assert_close(back, cols(np.swapaxes(rotations, -1, -2)))


def test_buffer_of_mat4_takes_column_arrays_from_lg_array():
    """A device array of shape (n, 4, 4) binds to Buffer[mat4]; a wrong trailing shape is refused."""
    ms = cols(well_conditioned(4, N, 6))
    vs = np.ones((N, 4), np.float32)
    outputs = [lg.array(np.zeros((N, 4), np.float32)) for _ in range(2)] + \
              [lg.array(np.zeros((N, 4, 4), np.float32)) for _ in range(2)]
    products[N](lg.array(ms), lg.array(vs), *outputs)
    assert_close(outputs[0].numpy(), math_of(ms) @ np.ones(4, np.float32))
    with pytest.raises(TypeError, match="mat4"):
        products[N](lg.array(ms.reshape(N, 16)), lg.array(vs), *outputs)


@lg.kernel
def documented(ms: Buffer[mat4], pts: Buffer[vec4], out: Buffer[vec4], inv: Buffer[mat4]):
    """The example of docs/language.md (Matrices), a conditional matrix, and a column filled by a scalar."""
    i = global_id().x
    if i < len(pts):
        m = ms[i]
        r = mat4(2.0)
        r[3] = vec4(1.0, 0.0, 0.0, 1.0)
        out[i] = (m @ r) @ pts[i]
        chosen = m if i % 2 == 0 else r
        filled = mat4(1.0)
        filled[1] = 0.25
        inv[i] = inverse(transpose(m)) * 0.5 + chosen - filled


def test_the_documented_example():
    rng = np.random.default_rng(7)
    m = well_conditioned(4, N, 8)
    pts = rng.standard_normal((N, 4)).astype(np.float32)
    _, _, out, inv = run_both(documented, N, cols(m), pts, np.zeros_like(pts), np.zeros((N, 4, 4), np.float32),
                              rtol=RTOL, atol=1e-5)
    r = np.eye(4, dtype=np.float32) * 2
    r[:, 3] = [1, 0, 0, 1]  # column 3, row-major view
    assert_close(out, np.einsum("nrc,nc->nr", m @ r, pts))
    chosen = np.where((np.arange(N) % 2 == 0)[:, None, None], m, r)
    filled = np.eye(4, dtype=np.float32)
    filled[:, 1] = 0.25
    assert_close(inv, cols(np.linalg.inv(np.swapaxes(m, -1, -2)) * 0.5 + chosen - filled))


@pytest.mark.parametrize("kernel", [construct, products, elementwise, linear_algebra, helpers, documented],
                         ids=lambda k: k.__name__)
def test_matrix_kernels_are_valid_for_a_spirv_1_3_device(kernel):
    """The generic target (Vulkan 1.1, SPIR-V 1.3) has no OpSelect of a whole matrix: the conftest runs
    spirv-val on every module assembled here, and fails the test on an invalid one."""
    assert compile_kernel(kernel, Target()).spirv


# ---- emulation values ------------------------------------------------------------------------------
def test_matrix_values_in_plain_python_follow_numpy():
    m = mat3(1, 2, 3, 4, 5, 6, 7, 8, 10)
    as_numpy = np.array([[1, 4, 7], [2, 5, 8], [3, 6, 10]], np.float32)  # column j is [1, 2, 3] for j = 0
    assert list(m[0]) == [1, 2, 3]
    assert_close(np.asarray(m @ vec3(1, 2, 3)), as_numpy @ [1, 2, 3])
    assert_close(np.asarray(vec3(1, 2, 3) @ m), [1, 2, 3] @ as_numpy)
    assert_close(inverse(m).math, np.linalg.inv(as_numpy))
    assert_close(determinant(m), np.linalg.det(as_numpy))
    assert mat2(2.0) == mat2(2, 0, 0, 2)
    with pytest.raises(TypeError):
        m * vec3(1, 2, 3)


# ---- should-fail snippets ---------------------------------------------------------------------------
HEADER = "from legionella.lang import *\n"

# (id, snippet, message fragment, line, column), lines and columns relative to ``def k`` (1-based)
CASES = [
    ("matrix-times-vector", """
        def k(a: Buffer[vec4]):
            m = mat4(1.0)
            a[0] = m * a[1]
        """, "use m @ v for the matrix-vector product", 3, 12),
    ("vector-times-matrix", """
        def k(a: Buffer[vec2]):
            m = mat2(1.0)
            a[0] = a[1] * m
        """, "use v @ m for the vector-matrix product", 3, 12),
    ("matmul-sizes", """
        def k(a: Buffer[vec4]):
            m = mat3(1.0)
            a[0] = m @ a[1]
        """, "the sizes do not match in mat3 @ vec4", 3, 12),
    ("matmul-matrices-sizes", """
        def k(a: Buffer[mat4]):
            a[0] = a[1] @ mat2(1.0)
        """, "the sizes do not match in mat4 @ mat2", 2, 12),
    ("matmul-scalars", """
        def k(a: Buffer[f32]):
            a[0] = a[1] @ 2.0
        """, "'@' is the matrix product", 2, 12),
    ("column-out-of-range", """
        def k(a: Buffer[vec4]):
            m = mat4(1.0)
            a[0] = m[4]
        """, "a mat4 column index must be a literal in 0..3", 3, 14),
    ("column-store-out-of-range", """
        def k(a: Buffer[vec2]):
            m = mat2(1.0)
            m[2] = a[0]
        """, "a mat2 column index must be a literal in 0..1", 3, 7),
    ("buffer-of-mat3", """
        def k(a: Buffer[mat3]):
            pass
        """, "Buffer[mat3] is not supported: std430 pads each vec3 column to 16 bytes", 1, 7),
    ("matrix-kernel-parameter", """
        def k(a: Buffer[f32], m: mat4):
            pass
        """, "kernel parameter 'm' has annotation mat4", 1, 23),
    ("constructor-arity", """
        def k(a: Buffer[f32]):
            m = mat2(1.0, 2.0, 3.0)
        """, "mat2() takes 2 vec2 columns, 4 numbers", 2, 9),
    ("matrix-with-integer-scalar", """
        def k(a: Buffer[mat2], n: i32):
            a[0] = a[0] * n
        """, "a mat2 combines with f32 scalars, not i32", 2, 12),
    ("matrices-of-different-sizes", """
        def k(a: Buffer[mat2]):
            m = mat4(1.0)
            m = mat2(1.0)
        """, "cannot assign a mat2", 3, 9),
    ("function-of-matrix", """
        def k(a: Buffer[mat2]):
            a[0] = abs(a[1])
        """, "this function takes scalars and vectors, not a mat2", 2, 12),
    ("column-of-buffer-element", """
        def k(a: Buffer[mat2]):
            a[0][1] = vec2(1.0)
        """, "can only assign columns of a local matrix variable", 2, 5),
    ("determinant-of-vector", """
        def k(a: Buffer[vec4], d: Buffer[f32]):
            d[0] = determinant(a[0])
        """, "determinant() takes a matrix (mat2, mat3 or mat4), not a vec4", 2, 24),
]


compile_snippet = functools.partial(snippets.compile_snippet, HEADER)


@pytest.mark.parametrize("snippet, message, line, col", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_matrix_mistakes_are_located_compile_errors(snippet, message, line, col, tmp_path):
    with pytest.raises(lg.CompileError) as info:
        compile_snippet(snippet, tmp_path)
    e = info.value
    assert message in e.message, e.message
    assert (e.lineno, e.col) == (line + HEADER.count("\n"), col), str(e)
