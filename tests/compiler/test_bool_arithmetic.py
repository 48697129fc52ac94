"""One rule for bools in arithmetic, on every operator, on the device and in ``kernel.emulate``: a bool
combined with a typed number converts to it (True is 1), as numpy does. With a literal numpy gives its
default int64/float64, which the emulator follows and the device may lack, so ``(x > 2) * 5`` is a
CompileError that says to convert the bool first; so is arithmetic between two bools, and unary
``-``/``+`` on one (numpy's ``+`` on bools is a logical or, Python's counts; numpy refuses ``-``)."""
import numpy as np
import pytest

import legionella as lg
from legionella.lang import Buffer, f32, global_id, i32, u32
import snippets
from differential import run_both


@lg.kernel
def with_typed(a: Buffer[i32], u: Buffer[u32], x: Buffer[f32], o: Buffer[i32, 2], f: Buffer[f32, 2]):
    i = global_id().x
    if i < len(a):
        b = x[i] < 0.0
        o[i, 0] = b + a[i]
        o[i, 1] = a[i] * b - b
        o[i, 2] = i32(b * u[i])
        o[i, 3] = a[i] // (b + i32(1))
        o[i, 4] = (a[i] > 0) * a[i]
        f[i, 0] = b * x[i]
        f[i, 1] = x[i] - b
        f[i, 2] = b / x[i]


def _inputs(n=8):
    a = np.arange(-3, n - 3, dtype=np.int32)
    return a, np.arange(n, dtype=np.uint32) * 3, np.linspace(-2, 2, n).astype(np.float32)


def test_a_bool_with_a_typed_number_converts_to_its_type():
    a, u, x = _inputs()
    n = len(a)
    o, f = run_both(with_typed, n, a, u, x, np.zeros((n, 5), np.int32), np.zeros((n, 3), np.float32))[3:]
    b = (x < 0).astype(np.int64)
    np.testing.assert_array_equal(o, np.stack([b + a, a * b - b, b * u, a // (b + 1), (a > 0) * a], axis=1))
    np.testing.assert_allclose(f, np.stack([b * x, x - b, b / x], axis=1), rtol=1e-6)


HEADER = "from legionella.lang import *\n"
REFUSED = [
    ("two-bools-add", "a[0] = (a[1] < 3) + (a[2] > 1)", "when both operands are bool ('+'", 12),
    ("two-bools-mul", "a[0] = (a[1] < 3) * (a[2] > 1)", "when both operands are bool ('*'", 12),
    ("bool-and-true", "a[0] = (a[1] < 3) - True", "when both operands are bool ('-'", 12),
    ("negated-bool", "a[0] = -(a[1] < 3)", "unary '-' and '+' are not defined for bool", 12),
    ("bool-times-int-literal", "a[0] = (a[1] < 3) * 5", "a bool * the literal 5: numpy makes it int64", 12),
    ("int-literal-plus-bool", "a[0] = 7 - (a[1] < 3)", "convert the bool first: 7 - i32(cond)", 12),
    ("bool-times-float-literal", "a[0] = i32((a[1] < 3) * 2.5)", "numpy makes it float64", 16),
]


@pytest.mark.parametrize("line, message, col", [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_arithmetic_between_two_bools_is_refused_at_the_expression(line, message, col, tmp_path):
    with pytest.raises(lg.CompileError) as info:
        snippets.compile_snippet(HEADER, f"def k(a: Buffer[i32]):\n    {line}\n", tmp_path)
    e = info.value
    assert message in e.message
    assert "i32(" in e.message or "f32(" in e.message
    assert (e.lineno, e.col) == (2 + 1, col)
