"""One rule for bools in arithmetic, on every operator, on the device and in ``kernel.emulate``: a bool
combined with a number converts to it (True is 1), as numpy does; next to an int or float literal it
takes the literal's own type (``(x > 2) * 5`` is i32, ``(x > 2) * 2.5`` f32), since a bool has no width
to lend. Arithmetic between two bools, and unary ``-``/``+`` on one, are CompileErrors (numpy's ``+`` on
bools is a logical or, Python's counts; numpy refuses ``-``)."""
import numpy as np
import pytest

import legionella as lg
from legionella.lang import Buffer, f32, global_id, i32, u32
import snippets
from differential import run_both


@lg.kernel
def with_literals(a: Buffer[i32], o: Buffer[i32, 2], f: Buffer[f32, 2]):
    i = global_id().x
    if i < len(a):
        b = a[i] > 2
        o[i, 0] = b * 5
        o[i, 1] = 5 * b
        o[i, 2] = b + 7
        o[i, 3] = 7 - b
        o[i, 4] = b // 2 + (b + 1) // 2
        o[i, 5] = b % 2
        o[i, 6] = b ** 2 + b ** 0
        o[i, 7] = (b << 3) | (b >> 1)
        o[i, 8] = (b & 3) + (b ^ 6)
        o[i, 9] = i32(b == 1) + i32(b < 1) * 10 + i32(b >= 0) * 100
        o[i, 10] = max(b * 4, 1)
        f[i, 0] = b * 2.5
        f[i, 1] = b / 2
        f[i, 2] = 0.5 - b


@lg.kernel
def with_typed(a: Buffer[i32], u: Buffer[u32], x: Buffer[f32], o: Buffer[i32, 2], f: Buffer[f32, 2]):
    i = global_id().x
    if i < len(a):
        b = x[i] < 0.0
        o[i, 0] = b + a[i]
        o[i, 1] = a[i] * b - b
        o[i, 2] = i32(b * u[i])
        o[i, 3] = a[i] // (b + 1)
        o[i, 4] = (a[i] > 0) * a[i]
        f[i, 0] = b * x[i]
        f[i, 1] = x[i] - b
        f[i, 2] = b / x[i]


def _inputs(n=8):
    a = np.arange(-3, n - 3, dtype=np.int32)
    return a, np.arange(n, dtype=np.uint32) * 3, np.linspace(-2, 2, n).astype(np.float32)


def test_a_bool_with_a_literal_converts_on_every_operator():
    a, _, _ = _inputs()
    o, f = run_both(with_literals, len(a), a, np.zeros((len(a), 11), np.int32), np.zeros((len(a), 3), np.float32))[1:]
    b = (a > 2).astype(np.int64)
    expected = np.stack([b * 5, 5 * b, b + 7, 7 - b, b // 2 + (b + 1) // 2, b % 2, b ** 2 + 1, (b << 3) | (b >> 1),
                         (b & 3) + (b ^ 6), (b == 1) + (b < 1) * 10 + 100, np.maximum(b * 4, 1)], axis=1)
    np.testing.assert_array_equal(o, expected)
    np.testing.assert_array_equal(f, np.stack([b * 2.5, b / 2, 0.5 - b], axis=1).astype(np.float32))


def test_a_bool_with_a_typed_number_converts_to_its_type():
    a, u, x = _inputs()
    n = len(a)
    o, f = run_both(with_typed, n, a, u, x, np.zeros((n, 5), np.int32), np.zeros((n, 3), np.float32))[3:]
    b = (x < 0).astype(np.int64)
    np.testing.assert_array_equal(o, np.stack([b + a, a * b - b, b * u, a // (b + 1), (a > 0) * a], axis=1))
    np.testing.assert_allclose(f, np.stack([b * x, x - b, b / x], axis=1), rtol=1e-6)


@pytest.mark.parametrize("expr, local", [("(a[0] > 2) * 5", "i32"), ("(a[0] > 2) * 2.5", "f32"),
                                         ("(a[0] > 2) + 1", "i32"), ("1.5 / (a[0] > 2)", "f32"),
                                         ("(a[0] > 2) / 2", "f64")])
def test_the_literal_keeps_its_own_type_next_to_a_bool(expr, local, tmp_path):
    """The local's type shows the result type: assigning a value of another type to it is refused."""
    other = {"i32": "2.5", "f32": "i64(1)", "f64": "vec2(1.0, 2.0)"}[local]
    snippet = f"""
        def k(a: Buffer[i32]):
            y = {expr}
            y = {other}
        """
    with pytest.raises(lg.CompileError) as info:
        snippets.compile_snippet("from legionella.lang import *\n", snippet, tmp_path, target=lg.device().target)
    assert f"'y' is a {local} (from its first assignment)" in info.value.message


HEADER = "from legionella.lang import *\n"
REFUSED = [
    ("two-bools-add", "a[0] = (a[1] < 3) + (a[2] > 1)", "when both operands are bool ('+'", 12),
    ("two-bools-mul", "a[0] = (a[1] < 3) * (a[2] > 1)", "when both operands are bool ('*'", 12),
    ("bool-and-true", "a[0] = (a[1] < 3) - True", "when both operands are bool ('-'", 12),
    ("negated-bool", "a[0] = -(a[1] < 3)", "unary '-' and '+' are not defined for bool", 12),
    ("literal-too-big", "a[0] = (a[1] < 3) * 3000000000", "the literal 3000000000 does not fit in i32", 12),
]


@pytest.mark.parametrize("line, message, col", [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_arithmetic_between_two_bools_is_refused_at_the_expression(line, message, col, tmp_path):
    with pytest.raises(lg.CompileError) as info:
        snippets.compile_snippet(HEADER, f"def k(a: Buffer[i32]):\n    {line}\n", tmp_path)
    e = info.value
    assert message in e.message
    assert "i32(...)" in e.message or "does not fit" in message
    assert (e.lineno, e.col) == (2 + 1, col)
