"""Differential tests of helper functions: resolution through globals and module attributes,
specialisation per call site, tuples returned and unpacked, early returns, folded module constants."""
import math

import numpy as np

import legionella as lg
import helpers_mod
from legionella.lang import Buffer, f32, global_id, i32, u32
from differential import run_both

N = 32
LIMIT = 10
HALF = np.float32(0.5)


def smoothstep(e0, e1, x):
    t = min(max((x - e0) / (e1 - e0), 0.0), 1.0)
    return t * t * (3.0 - 2.0 * t)


def divmod_floor(a, b):
    return a // b, a % b


def sign(x):
    if x > 0:
        return 1
    if x < 0:
        return -1
    return 0


def twice(x):
    return x + x


def collatz_len(n: i32) -> i32:
    steps = 0
    while n != 1:
        if steps >= 200:
            return -1
        n = n // 2 if n % 2 == 0 else 3 * n + 1
        steps += 1
    return steps


def fill(buf, i, value):
    buf[i] = value


@lg.kernel
def use_helpers(a: Buffer[f32], k: Buffer[i32], out: Buffer[f32, 2], iout: Buffer[i32, 2], flags: Buffer[f32]):
    i = global_id().x
    if i < len(a):
        out[i, 0] = smoothstep(-1.0, 1.0, a[i])
        q, r = divmod_floor(k[i], 3)
        iout[i, 0] = q
        iout[i, 1] = r
        iout[i, 2] = sign(k[i]) + sign(a[i])
        iout[i, 3] = twice(k[i]) + i32(twice(a[i]))
        iout[i, 4] = twice(LIMIT)
        iout[i, 5] = collatz_len(i + 1)
        out[i, 1] = helpers_mod.scale(a[i])
        iout[i, 6] = helpers_mod.clamp_index(k[i], LIMIT)
        out[i, 2] = a[i] * HALF + math.pi
        fill(flags, i, 7)


def test_helpers_tuples_specialisation_and_module_attributes():
    a = np.linspace(-2, 2, N).astype(np.float32)
    k = (np.arange(N) - 12).astype(np.int32)
    run_both(use_helpers, N, a, k, np.zeros((N, 3), np.float32), np.zeros((N, 7), np.int32), np.zeros(N, np.float32),
             rtol=1e-5)


@lg.kernel
def swap_and_unpack(a: Buffer[i32], b: Buffer[u32]):
    i = global_id().x
    if i < len(a):
        x = a[i]
        y = i
        x, y = y, x
        h, = a.shape
        a[i] = x * 100 + y + h
        b[i] = u32(x) * u32(3)


def test_tuple_swap_and_shape_unpacking():
    run_both(swap_and_unpack, N, np.arange(N, dtype=np.int32) * 7, np.zeros(N, np.uint32))


import helpers_mod2  # noqa: E402


@lg.kernel
def same_code_other_module(a: Buffer[i32], out: Buffer[i32, 2]):
    i = global_id().x
    if i < len(a):
        out[i, 0] = helpers_mod.times_k(a[i])
        out[i, 1] = helpers_mod2.times_k(a[i])


def test_equal_helper_code_in_two_modules_reads_each_modules_constants():
    _, out = run_both(same_code_other_module, N, np.arange(N, dtype=np.int32), np.zeros((N, 2), np.int32))
    assert (out[:, 0] == np.arange(N) * 2).all() and (out[:, 1] == np.arange(N) * 5).all()


WEIGHTS = (0.25, 0.5, 0.25)
SHAPE = (3, 4)


@lg.kernel
def tuple_constants(a: Buffer[f32], out: Buffer[f32]):
    i = global_id().x
    rows, cols = SHAPE
    if i < len(a) and i < rows * cols:
        out[i] = WEIGHTS[0] * a[i] + WEIGHTS[1] * a[(i + 1) % len(a)] + WEIGHTS[-1] + f32(cols)


def test_module_tuples_of_constants_index_and_unpack():
    run_both(tuple_constants, N, np.arange(N, dtype=np.float32), np.zeros(N, np.float32))
