"""Differential tests of the Python operators under numpy's type rules (device == emulator)."""
import numpy as np
import pytest

import legionella as lg
from legionella.lang import Buffer, f32, f64, global_id, i32, i64, u32
from differential import run_both

N = 64
INTS = np.array([-7, -3, -1, 0, 1, 2, 5, 9, 2**31 - 1, -2**31, 100, -100, 17, -17, 3, -4] * 4, dtype=np.int32)
DIVS = np.array([2, -2, 3, -3, 1, -1, 7, -7, 5, -5, 9, -9, 4, -4, 13, -13] * 4, dtype=np.int32)
FLOATS = np.linspace(-4.5, 4.5, N).astype(np.float32)
FDIVS = np.where(np.abs(FLOATS) < 0.5, 1.5, FLOATS)[::-1].astype(np.float32).copy()


@lg.kernel
def int_arith(a: Buffer[i32], b: Buffer[i32], out: Buffer[i32, 2]):
    i = global_id().x
    if i < len(a):
        x = a[i]
        y = b[i]
        out[i, 0] = x + y
        out[i, 1] = x - y
        out[i, 2] = x * y
        out[i, 3] = x // y
        out[i, 4] = x % y
        out[i, 5] = -x
        out[i, 6] = x & y
        out[i, 7] = x | y
        out[i, 8] = x ^ y
        out[i, 9] = ~x
        out[i, 10] = x << 3
        out[i, 11] = x >> 2
        out[i, 12] = x * 3 + 1
        out[i, 13] = x // 4
        out[i, 14] = x % 5
        out[i, 15] = x ** 2


def test_integer_operators_follow_python_floor_rules_and_wrap():
    out = np.zeros((N, 16), dtype=np.int32)
    run_both(int_arith, N, INTS, DIVS, out)


@lg.kernel
def uint_arith(a: Buffer[u32], b: Buffer[u32], out: Buffer[u32, 2]):
    i = global_id().x
    if i < len(a):
        x = a[i]
        y = b[i]
        out[i, 0] = x + y
        out[i, 1] = x - y
        out[i, 2] = x * y
        out[i, 3] = x // y
        out[i, 4] = x % y
        out[i, 5] = x >> 3
        out[i, 6] = x << 4
        out[i, 7] = x ^ y


def test_unsigned_operators_wrap():
    a = (INTS.view(np.uint32) // 3).astype(np.uint32)
    b = np.abs(DIVS).astype(np.uint32)
    run_both(uint_arith, N, a, b, np.zeros((N, 8), dtype=np.uint32))


@lg.kernel
def float_arith(a: Buffer[f32], b: Buffer[f32], out: Buffer[f32, 2]):
    i = global_id().x
    if i < len(a):
        x = a[i]
        y = b[i]
        out[i, 0] = x + y
        out[i, 1] = x - y
        out[i, 2] = x * y
        out[i, 3] = x / y
        out[i, 4] = x // y
        out[i, 5] = x % y
        out[i, 6] = -x
        out[i, 7] = x * 0.5 + 2
        out[i, 8] = x ** 2
        out[i, 9] = 1 / y
        out[i, 10] = x ** -1


def test_float_operators_follow_python_floor_rules():
    out = np.zeros((N, 11), dtype=np.float32)
    run_both(float_arith, N, FLOATS, FDIVS, out, rtol=1e-5, atol=1e-5)


@lg.kernel
def comparisons(a: Buffer[f32], b: Buffer[i32], out: Buffer[i32, 2]):
    i = global_id().x
    if i < len(a):
        x = a[i]
        k = b[i]
        out[i, 0] = i32(x < 1.0)
        out[i, 1] = i32(-1 < k <= 5)
        out[i, 2] = i32(x == x)
        out[i, 3] = i32(x != 0.5)
        out[i, 4] = i32(k >= 3 and x > 0.0)
        out[i, 5] = i32(k < 0 or x < -1.0)
        out[i, 6] = i32(not k)
        out[i, 7] = 10 if k > 2 else -10
        out[i, 8] = i32(0 < k < 10 < 100)


def test_comparisons_chains_and_boolean_operators():
    run_both(comparisons, N, FLOATS, INTS, np.zeros((N, 9), dtype=np.int32))


@lg.kernel
def conversions(a: Buffer[f32], out_i: Buffer[i32], out_u: Buffer[u32], out_f: Buffer[f32]):
    i = global_id().x
    if i < len(a):
        out_i[i] = i32(a[i])
        out_u[i] = u32(abs(a[i]))
        out_f[i] = f32(i32(a[i] * 3.0)) + f32(i)
        out_i[i + len(a)] = int(a[i] * 2.0)


def test_casts_truncate_toward_zero():
    run_both(conversions, N, FLOATS, np.zeros(2 * N, np.int32), np.zeros(N, np.uint32), np.zeros(N, np.float32))


@lg.kernel
def store_converts(a: Buffer[i32], out: Buffer[f32], back: Buffer[i32]):
    i = global_id().x
    if i < len(a):
        out[i] = a[i] % 1000
        back[i] = out[i] * 2.5


def test_storing_converts_like_numpy():
    run_both(store_converts, N, INTS, np.zeros(N, np.float32), np.zeros(N, np.int32))


@lg.kernel
def augmented(a: Buffer[i32], f: Buffer[f32]):
    i = global_id().x
    if i < len(a):
        x = a[i]
        x += 5
        x *= 3
        x -= 1
        x //= 2
        x %= 1000
        x <<= 1
        x |= 1
        a[i] = x
        f[i] += 1.5
        f[i] *= 2


def test_augmented_assignment():
    run_both(augmented, N, INTS, FLOATS)


@lg.kernel
def weak_literals(a: Buffer[i32], out: Buffer[f32]):
    i = global_id().x
    if i < len(a):
        k = a[i] % 100
        scale = 0.5
        out[i] = k * scale + (1 + 2) * 3 // 2 + 7 / 2


def test_literals_adapt_to_the_typed_operand():
    run_both(weak_literals, N, INTS, np.zeros(N, np.float32))


@lg.kernel
def mixed_sign(a: Buffer[i32], b: Buffer[u32], out: Buffer[i32, 2]):
    i = global_id().x
    if i < len(a):
        x = a[i]
        y = b[i]
        out[i, 0] = i32(x < y)
        out[i, 1] = i32(y <= x)
        out[i, 2] = i32(x == y)
        out[i, 3] = i32(y != x)
        out[i, 4] = i32(x >= y)
        out[i, 5] = i32(y > x)


def test_signed_unsigned_comparisons_are_exact_without_i64():
    a = INTS.copy()
    b = np.where(np.arange(N) % 3 == 0, a.view(np.uint32), np.abs(DIVS).astype(np.uint32) * 1000)
    run_both(mixed_sign, N, a, b.astype(np.uint32), np.zeros((N, 6), np.int32))


@lg.kernel
def wide(a: Buffer[i32], b: Buffer[u32], out_f: Buffer[f64], out_i: Buffer[i64]):
    i = global_id().x
    if i < len(a):
        out_f[i] = a[i] / DIVS_K + a[i] * 0.5
        out_i[i] = a[i] + b[i]
        out_i[i + len(a)] = i64(a[i]) * 3000000000


DIVS_K = 7


def test_numpy_promotion_to_64_bit_where_the_device_has_it():
    if not lg.device().target.float64 or not lg.device().target.int64:
        pytest.skip("the device has no 64-bit types")
    b = np.abs(DIVS).astype(np.uint32) * 100000000
    run_both(wide, N, INTS, b, np.zeros(N, np.float64), np.zeros(2 * N, np.int64), rtol=1e-12)


@lg.kernel
def bools(a: Buffer[i32], f: Buffer[f32], out: Buffer[i32, 2]):
    i = global_id().x
    if i < len(a):
        p = a[i] > 0
        q = f[i] < 0.5
        out[i, 0] = i32(p & q) + 2 * i32(p | q) + 4 * i32(p ^ q) + 8 * i32(~p)
        out[i, 1] = i32(bool(a[i])) + 2 * i32(not f[i])
        out[i, 2] = i32(float(a[i] % 50) * 0.5)
        out[i, 3] = int(p) + i32(p == q) * 10 + i32(p != (not q)) * 100
        out[i, 4] = a[i] + p


def test_bool_operators_and_python_casts():
    f = np.where(np.arange(N) % 5 == 0, 0.0, FLOATS).astype(np.float32)
    run_both(bools, N, INTS, f, np.zeros((N, 5), np.int32))
