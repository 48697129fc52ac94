"""An int literal stored into an integer buffer, local or vector component must fit the element type
(numpy raises ``OverflowError`` for ``u32_array[0] = -1``, and so does ``kernel.emulate``): out of range
it is the CompileError the literal gets in arithmetic, at the literal; in range it is stored exactly,
on the device and in the emulator alike."""
import numpy as np
import pytest

import legionella as lg
from legionella.lang import Buffer, atomic_add, f32, global_id, i32, i64, u32, uvec2, vec2
import snippets
from differential import run_both

HEADER = "from legionella.lang import *\n"

# (id, snippet, message, line, column), lines relative to `def k`
REFUSED = [
    ("minus-one-into-u32", """
        def k(a: Buffer[u32]):
            a[0] = -1
        """, "the literal -1 does not fit in u32 (0..4294967295)", 2, 12),
    ("three-billion-into-i32", """
        def k(b: Buffer[i32]):
            b[0] = 3000000000
        """, "the literal 3000000000 does not fit in i32 (-2147483648..2147483647)", 2, 12),
    ("into-a-vector-component", """
        def k(a: Buffer[uvec2]):
            a[0].y = -5
        """, "the literal -5 does not fit in u32", 2, 14),
    ("into-a-whole-vector", """
        def k(a: Buffer[ivec2]):
            a[0] = 2**40
        """, "the literal 1099511627776 does not fit in i32", 2, 12),
    ("into-an-annotated-local", """
        def k(a: Buffer[u32]):
            x: u32 = -1
            a[0] = x
        """, "the literal -1 does not fit in u32", 2, 14),
    ("into-an-augmented-store", """
        def k(a: Buffer[u32]):
            a[0] += -1
        """, "the literal -1 does not fit in u32", 2, 5),
    ("from-a-conditional-expression", """
        def k(a: Buffer[u32]):
            a[0] = 5 if a[1] > 0 else -1
        """, "the literal -1 does not fit in u32", 2, 12),
]


@pytest.mark.parametrize("snippet, message, line, col", [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_an_out_of_range_literal_is_refused_where_it_is_written(snippet, message, line, col, tmp_path):
    snippets.refused_snippet(HEADER, snippet, tmp_path, message, line, col)


@lg.kernel
def limits(a: Buffer[u32], b: Buffer[i32], c: Buffer[i64], v: Buffer[uvec2]):
    if global_id().x == 0:
        a[0] = 4294967295
        a[1] = 0
        b[0] = -2147483648
        b[1] = 2147483647
        c[0] = -9223372036854775808
        c[1] = 3000000000
        v[0] = 4294967295
        v[1] = 7
        x: u32 = 4294967295
        a[2] = x


def test_literals_at_the_limits_are_stored_exactly_on_the_device_and_in_the_emulator():
    a, b, c = np.zeros(3, np.uint32), np.zeros(2, np.int32), np.zeros(2, np.int64)
    v = np.zeros((2, 2), np.uint32)
    a, b, c, v = run_both(limits, 1, a, b, c, v)
    assert a.tolist() == [4294967295, 0, 4294967295]
    assert b.tolist() == [-2147483648, 2147483647]
    assert c.tolist() == [-9223372036854775808, 3000000000]
    assert v.tolist() == [[4294967295, 4294967295], [7, 7]]


@lg.kernel
def conditional_literals(o: Buffer[u32], f: Buffer[f32], a: Buffer[i32]):
    i = global_id().x
    if i < len(o):
        o[i] = 5 if i > 1 else 7  # each literal converts to u32 (and is range-checked), as numpy stores it
        f[i] = 1.5 if i > 1 else 2.0
        x = 3 if i > 2 else -1  # a local: i32, as the literals alone
        a[i] = x + (10 if i > 0 else 20)


def test_conditional_expressions_of_literals_convert_each_literal_where_stored():
    o, f, a = run_both(conditional_literals, 4, np.zeros(4, np.uint32), np.zeros(4, np.float32),
                       np.zeros(4, np.int32))
    assert o.tolist() == [7, 7, 5, 5] and f.tolist() == [2.0, 2.0, 1.5, 1.5]
    assert a.tolist() == [19, 9, 9, 13]


def twice(x):
    return x * 2


def pick(c):
    return 3 if c else 4


@lg.kernel(workgroup=(4,))
def conditional_literals_in_context(o: Buffer[i32], f: Buffer[f32], v: Buffer[f32, 2], count: Buffer[i32]):
    i = global_id().x
    if i < len(o):
        o[i] = twice(1 if i > 1 else 2) + pick(i > 2)  # a helper's argument, a helper's return value
        f[i] = f32(1 if i > 0 else 0) + f32(2.5 if i > 2 else 0.5)  # casts
        w = vec2(1.0 if i > 1 else 0.0, 3.0)  # a vector component
        v[i, 0] = w.x
        v[i, 1] = w.y
        atomic_add(count, 0, 1 if i > 0 else 2)
        if (1 if i > 1 else 0):  # a condition
            o[i] += 100
        k = 0
        k += 5 if i > 0 else 6  # an augmented store
        o[i] += k


def test_conditional_expressions_of_literals_work_in_every_context():
    o, f, v, count = run_both(conditional_literals_in_context, 4, np.zeros(4, np.int32), np.zeros(4, np.float32),
                              np.zeros((4, 2), np.float32), np.zeros(1, np.int32))
    assert o.tolist() == [14, 13, 111, 110] and f.tolist() == [0.5, 1.5, 1.5, 3.5]
    assert v[:, 0].tolist() == [0, 0, 1, 1] and count.tolist() == [5]
