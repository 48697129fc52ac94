"""Locals typed by a bare literal are i32 / f32 in ``kernel.emulate`` as on the device, so they wrap and
round the same way (compiler/emulated_literals.py)."""
import numpy as np

import legionella as lg
from legionella.compiler.emulated_literals import typed_literal_code
from legionella.lang import Buffer, f32, f64, global_id, i32, i64

from differential import run_both


@lg.kernel(workgroup=(1,))
def counts_past_the_i32_limit(out: Buffer[i32]):
    i = 2147483640
    steps = 0
    while i > 0 and steps < 100:  # a Python int never wraps: only the cap would end this loop
        i += 1
        steps += 1
    out[0] = steps
    out[1] = i


@lg.kernel(workgroup=(1,))
def wraps_and_rounds(out: Buffer[i32], rounded: Buffer[f32]):
    n = 1 << 30
    out[0] = n * 4
    m = 0
    m = 2147483647  # a later literal store into the same local
    out[1] = m + 1
    t = 16777216.0
    rounded[0] = t + 1.0  # f32 has no 16777217


def test_literal_locals_wrap_and_round_as_on_the_device():
    steps, = run_both(counts_past_the_i32_limit, 1, np.zeros(2, np.int32))
    assert steps.tolist() == [8, -2**31]
    out, rounded = run_both(wraps_and_rounds, 1, np.zeros(2, np.int32), np.zeros(1, np.float32))
    assert out.tolist() == [0, -2**31] and rounded.tolist() == [16777216.0]


@lg.kernel(workgroup=(1,))
def annotated_accumulators(a: Buffer[i32], sums: Buffer[i64], means: Buffer[f64], f: Buffer[f32]):
    total: i64 = 0
    for k in range(len(a)):
        total += a[k]  # 4 * 2**30 overflows i32, not i64
    sums[0] = total
    s: f64 = 0.0
    for k in range(len(f)):
        s += f[k]  # in f32, 1 + 3 * 2**-24 rounds to 1
    means[0] = s


def test_annotated_locals_have_their_annotations_type():
    sums, means = run_both(annotated_accumulators, 1, np.full(4, 2**30, np.int32), np.zeros(1, np.int64),
                           np.zeros(1, np.float64), np.array([1, 2**-24, 2**-24, 2**-24], np.float32),
                           rtol=0, atol=0)[1:3]
    assert sums.tolist() == [2**32] and means.tolist() == [1 + 3 * 2**-24]


def scale(x, y):
    x = 2  # a parameter keeps its caller's type: 2 becomes whatever x is (f32 below)
    z = 3 if y > 0 else 4  # a store reached by a jump is left alone
    return x * y, z


@lg.kernel(workgroup=(4,))
def calls_a_helper(out: Buffer[f32]):
    i = global_id().x
    if i < len(out):
        product, z = scale(out[i], out[i])
        out[i] = product + f32(z)


def test_parameters_and_branch_joins_keep_their_types():
    run_both(calls_a_helper, 4, np.arange(4, dtype=np.float32))
    copy = type(scale)(typed_literal_code(scale.__code__), {})
    product, z = copy(np.float32(1.5), np.float32(1.5))
    assert type(product) is np.float32 and type(z) is int


def test_cell_variables_and_nested_functions_are_rewritten_too():
    def outer():
        k = 2147483647  # a cell variable: STORE_DEREF

        def inner():
            n = 2147483647  # in a code object nested in outer's
            return n + 1
        return (lambda: k + 1)(), inner()
    copy = type(outer)(typed_literal_code(outer.__code__), {})
    with np.errstate(over="ignore"):
        assert copy() == (-2**31, -2**31)


def test_constant_tuples_unpacked_into_locals_are_typed_too():
    def unpack():
        k, n, x, flag = 2147483647, 0, 0.1, True
        return k + 1, n, x, flag
    copy = type(unpack)(typed_literal_code(unpack.__code__), {})
    with np.errstate(over="ignore"):
        k, n, x, flag = copy()
    assert (type(k), k, type(n), type(x), flag) == (np.int32, -2**31, np.int32, np.float32, True)


BIG = 2147483647
STEP = 0.1


@lg.kernel(workgroup=(1,))
def module_constants_in_locals(out: Buffer[i32], f: Buffer[f32]):
    x = BIG  # a module constant is a literal on the device: x is i32
    x += 1
    out[0] = x
    y = STEP  # f32
    for _ in range(10):
        y += STEP
    f[0] = y


def test_a_local_first_assigned_a_module_constant_is_typed_as_on_the_device():
    out, _ = run_both(module_constants_in_locals, 1, np.zeros(1, np.int32), np.zeros(1, np.float32))
    assert out.tolist() == [-2**31]  # the emulator raised OverflowError storing a Python int 2**31
    f = np.zeros(1, np.float32)
    module_constants_in_locals.emulate[1](np.zeros(1, np.int32), f)
    assert f[0] == sum([np.float32(0.1)] * 11, np.float32(0))  # f32 adds, not f64 ones rounded once
    # (lavapipe may reassociate the adds: the device agrees to a few ulp, as documented)
