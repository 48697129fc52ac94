"""Vectors and matrices shared between two names: refused where Python and the device would disagree.

In Python (and ``kernel.emulate``) ``w = v`` makes ``w`` the same Vector object as ``v``, so ``w.x = 5.0``
changes ``v``; on the device ``w`` is a copy. Each refused pattern gives a CompileError with the message,
line and column of the component store; each accepted pattern (fresh values, copies, buffer loads,
swizzle reads, a parameter rebound to a copy) compiles and gives the same result on the device as in
``kernel.emulate``. Positions are relative to the snippet's first line (``def k``); columns are 1-based.
"""
import re

import numpy as np
import pytest

import legionella as lg
from legionella.errors import CompileError
from legionella.lang import Buffer, global_id, mat2, vec2, vec3, vec4

import snippets
from differential import run_both

HEADER = ("from dataclasses import dataclass\nfrom legionella.lang import *\n"
          "@dataclass\nclass Particle:\n    vel: vec4\n    mass: f32\n")
HEADER_LINES = HEADER.count("\n")

# (id, snippet, expected message fragments, line, column of the store)
REFUSED = [
    ("alias-then-store", """
        def k(a: Buffer[vec4]):
            v = a[0]
            w = v
            w.x = 5.0
            a[1] = v
        """, ["'w' may share its vector with 'v' (w = v, line 3)", "changing w.x would change v too",
              "copy it first: w = vec4(v)"], 4, 5),
    ("alias-store-original", """
        def k(a: Buffer[vec4]):
            v = a[0]
            w = v
            v.y = 1.0
            a[1] = w
        """, ["'v' is shared with 'w' (w = v, line 3)", "changing v.y would change w too",
              "copy it there: w = vec4(v)"], 4, 5),
    ("alias-later-in-loop", """
        def k(a: Buffer[vec4]):
            v = a[0]
            w = a[1]
            for i in range(2):
                w.z = 2.0
                w = v
            a[2] = v
        """, ["'w' may share its vector with 'v' (w = v, line 6)"], 5, 9),
    ("alias-swizzle-store", """
        def k(a: Buffer[vec4]):
            v = a[0]
            w = v
            w.xy = vec2(1.0, 2.0)
            a[1] = v
        """, ["'w' may share its vector with 'v'", "changing w.xy would change v too"], 4, 5),
    ("alias-index-store", """
        def k(a: Buffer[ivec4]):
            v = a[0]
            w = v
            w[0] = 7
            a[1] = v
        """, ["'w' may share its vector with 'v'", "changing w[0] would change v too",
              "copy it first: w = ivec4(v)"], 4, 5),
    ("alias-tuple-unpack", """
        def k(a: Buffer[vec4]):
            v = a[0]
            u = a[1]
            w, t = v, u
            t.x = 1.0
            a[2] = u
        """, ["'t' may share its vector with 'u' (t = u, line 4)"], 5, 5),
    ("alias-unary-plus", """
        def k(a: Buffer[vec4]):
            v = a[0]
            w = +v
            w.x = 1.0
            a[1] = v
        """, ["'w' may share its vector with 'v' (w = +v, line 3)"], 4, 5),
    ("alias-conditional", """
        def k(a: Buffer[vec4]):
            v = a[0]
            u = a[1]
            w = v if a[2].x > 0.0 else u
            w.x = 1.0
            a[2] = v
        """, ["'w' may share its vector with 'v'"], 5, 5),
    ("alias-struct-field", """
        def k(a: Buffer[Particle], out: Buffer[vec4]):
            w = a[0].vel.xyz
            u = a[0].vel
            u.x = 0.0
            out[0] = u + w
        """, ["'u' may share its vector with 'a[0].vel'"], 4, 5),
    ("alias-annotated", """
        def k(a: Buffer[vec4]):
            v = a[0]
            w: vec4 = v
            w.x = 1.0
            a[1] = v
        """, ["'w' may share its vector with 'v'"], 4, 5),
    ("alias-matrix-column", """
        def k(a: Buffer[vec2]):
            m = mat2(a[0], a[1])
            n = m
            n[0] = vec2(0.0, 0.0)
            a[2] = m[0]
        """, ["'n' may share its matrix with 'm' (n = m, line 3)", "changing n[0] would change m too",
              "copy it first: n = m * 1.0"], 4, 5),
    ("helper-parameter", """
        def reset(v):
            v.x = 0.0
            return v.y
        def k(a: Buffer[vec4], out: Buffer[f32]):
            out[0] = reset(a[0])
        """, ["'v' is a parameter: in Python, changing v.x would change the caller's vector too",
              "copy it first, before any other use of 'v': v = vec4(v)"], 2, 5),
    ("helper-parameter-rebound-too-late", """
        def reset(v):
            v.x = 0.0
            v = vec4(v)
            return v.y
        def k(a: Buffer[vec4], out: Buffer[f32]):
            out[0] = reset(a[0])
        """, ["'v' is a parameter"], 2, 5),
    ("helper-parameter-rebound-under-if", """
        def reset(v, c):
            if c > 0:
                v = vec4(v)
            v.x = 0.0
            return v.y
        def k(a: Buffer[vec4], out: Buffer[f32]):
            out[0] = reset(a[0], 1)
        """, ["'v' is a parameter"], 4, 5),
    ("kernel-parameter", """
        def k(a: Buffer[vec4], p: vec4):
            p.x += 1.0
            a[global_id().x] = p
        """, ["'p' is a parameter", "copy it first, before any other use of 'p': p = vec4(p)"], 2, 5),
]


@pytest.mark.parametrize("case", REFUSED, ids=[c[0] for c in REFUSED])
def test_sharing_is_refused_where_it_happens(case, tmp_path):
    _, snippet, fragments, line, col = case
    with pytest.raises(CompileError) as info:
        snippets.compile_snippet(HEADER, snippet, tmp_path)
    err = info.value
    for fragment in fragments:  # "line N" in a fragment is relative to the snippet, like `line`
        fragment = re.sub(r"line (\d+)", lambda m: f"line {int(m.group(1)) + HEADER_LINES}", fragment)
        assert fragment in str(err), str(err)
    assert (err.lineno - HEADER_LINES, err.col) == (line, col), str(err)


# ---- accepted: the same answer on the device and in kernel.emulate --------------------------------

@lg.kernel
def copy_then_store(a: Buffer[vec4], out: Buffer[vec4]):
    i = global_id().x
    if i < len(a):
        v = a[i]
        w = vec4(v)          # a copy: w.x changes w only, in both worlds
        w.x = 5.0
        out[2 * i] = v
        out[2 * i + 1] = w


@lg.kernel
def fresh_values(a: Buffer[vec4], out: Buffer[vec4]):
    i = global_id().x
    if i < len(a):
        p = a[i]             # a buffer load is a copy
        p.w = 1.0
        s = p.zyxw           # a swizzle read is a new vector
        s.x = -1.0
        t = p * 2.0          # arithmetic is a new vector
        t.yz = vec2(3.0, 4.0)
        u = vec4(0.0)
        u[3] = a[i].x
        out[4 * i] = p
        out[4 * i + 1] = s
        out[4 * i + 2] = t
        out[4 * i + 3] = u


def shifted(v):
    v = vec3(v)              # rebound to a copy first: the caller's vector is not touched in Python
    v.x += 10.0
    return v


def doubled(v):
    return v * 2.0


@lg.kernel
def helper_copies(a: Buffer[vec4], out: Buffer[vec4]):
    i = global_id().x
    if i < len(a):
        v = a[i].xyz
        w = shifted(v)       # a helper's result is a new vector
        w.y = 7.0
        d = doubled(v)
        d.z = 0.5
        out[3 * i] = vec4(v, 0.0)
        out[3 * i + 1] = vec4(w, 0.0)
        out[3 * i + 2] = vec4(d, 0.0)


@lg.kernel
def param_rebound(a: Buffer[vec4], p: vec3):
    p = vec3(p)              # a launch argument is shared by every invocation in Python: copy it
    p.x += 1.0
    i = global_id().x
    if i < len(a):
        a[i] = vec4(p, 0.0) + a[i]


@lg.kernel
def matrix_copy(a: Buffer[vec2], out: Buffer[vec2]):
    i = global_id().x
    if i < len(a) // 2:
        m = mat2(a[2 * i], a[2 * i + 1])
        n = m * 1.0
        n[0] = vec2(9.0, 8.0)
        c = m[1]             # a column is a copy
        c.x = 0.0
        out[3 * i] = m[0]
        out[3 * i + 1] = n[0] + n[1]
        out[3 * i + 2] = c


@lg.kernel
def store_before_sharing(a: Buffer[vec4], out: Buffer[vec4]):
    i = global_id().x
    if i < len(a):
        r = vec4(2.0)
        r.w = 1.0            # runs before chosen = ... r: nothing shares r yet
        chosen = a[i] if i % 2 == 0 else r
        out[i] = chosen + r


def _vectors(n, width, seed):
    return np.random.default_rng(seed).standard_normal((n, width)).astype(np.float32)


def test_a_copy_is_changed_alone():
    a = _vectors(8, 4, 1)
    out, = run_both(copy_then_store, 8, a, np.zeros((16, 4), np.float32))[1:]
    np.testing.assert_array_equal(out[0::2], a)
    assert (out[1::2, 0] == 5.0).all()


def test_fresh_values_can_be_changed():
    a = _vectors(8, 4, 2)
    out, = run_both(fresh_values, 8, a, np.zeros((32, 4), np.float32))[1:]
    np.testing.assert_array_equal(out[0::4, 3], 1.0)
    np.testing.assert_array_equal(out[0::4, :3], a[:, :3])


def test_helper_parameter_rebound_and_results():
    a = _vectors(8, 4, 3)
    out, = run_both(helper_copies, 8, a, np.zeros((24, 4), np.float32))[1:]
    np.testing.assert_array_equal(out[0::3, :3], a[:, :3])  # the helper did not change the caller's v
    np.testing.assert_allclose(out[1::3, 0], a[:, 0] + 10.0, rtol=1e-6)


def test_kernel_parameter_rebound_to_a_copy():
    a = _vectors(8, 4, 4)
    p = vec3(1.0, 2.0, 3.0)
    out, = run_both(param_rebound, 8, a, p)
    np.testing.assert_allclose(out, a + np.float32([2.0, 2.0, 3.0, 0.0]), rtol=1e-6)
    assert p == vec3(1.0, 2.0, 3.0)


def test_matrix_copy_and_column():
    a = _vectors(8, 2, 5)
    out, = run_both(matrix_copy, 4, a, np.zeros((12, 2), np.float32))[1:]
    np.testing.assert_array_equal(out[0::3], a[0::2])
    np.testing.assert_allclose(out[1::3], np.float32([9.0, 8.0]) + a[1::2], rtol=1e-6)


def test_a_store_before_the_sharing_assignment_is_accepted():
    a = _vectors(8, 4, 6)
    out, = run_both(store_before_sharing, 8, a, np.zeros((8, 4), np.float32))[1:]
    r = np.float32([2.0, 2.0, 2.0, 1.0])
    np.testing.assert_array_equal(out[1::2], np.tile(2 * r, (4, 1)))
    np.testing.assert_allclose(out[0::2], a[0::2] + r, rtol=1e-6)
