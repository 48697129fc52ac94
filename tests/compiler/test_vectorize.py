"""The ``vectorize`` pass: element-wise kernels run 4 elements per invocation with vec4 loads and stores.

Every transformed kernel is checked against ``kernel.emulate`` (the unchanged Python function) at sizes
around the vector width and the workgroup (0, 1, 3, 4, 5, 255, 256, 257, 1023, 4097), each test first
asserting that the transform fired (``elements_per_invocation == 4``) so none passes vacuously; kernels
outside the handled shape must come out unchanged (one element per invocation) and still be right.

Unaligned arrays: the runtime's allocator places every array at a multiple of 16 bytes and ``lg.Array``
has no views or slices, so no launch can bind a buffer at an offset vec4 loads cannot use (lavapipe's
minStorageBufferOffsetAlignment is 16 as well). The launcher still checks each launch and falls back to
a one-element variant; the fallback is tested by raising the launcher's alignment requirement above the
offsets the allocator gave (see ``test_unaligned_offsets_use_the_one_element_variant``).
"""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import legionella as lg
from legionella.compiler import driver
from legionella.compiler.target import Target
from legionella.lang import Buffer, atomic_add, clamp, f32, global_id, i32, u32
from legionella.runtime.launch import Launcher
from legionella.spirv import disassemble

from differential import run_both

SIZES = (0, 1, 3, 4, 5, 255, 256, 257, 1023, 4097)
RNG = np.random.default_rng(9)


def floats(n, low=-4.0, high=4.0):
    return RNG.uniform(low, high, n).astype(np.float32)


def ints(n, low=-1000, high=1000):
    return RNG.integers(low, high, n).astype(np.int32)


def elements(kernel):
    """Elements per invocation of ``kernel`` compiled for the test device."""
    return kernel.compile(lg.device().target).elements_per_invocation


def assert_vectorized(kernel):
    assert elements(kernel) == 4, f"{kernel.__name__} was expected to be vectorized"
    text = kernel.disassemble(lg.device().target)
    assert "OpTypeVector %" in text and ".vec4" in text


# ---- kernels the pass transforms -------------------------------------------------------------------
@lg.kernel(workgroup=(256,))
def saxpy(a: f32, x: Buffer[f32], y: Buffer[f32]):
    i = global_id().x
    if i < len(y):
        y[i] = a * x[i] + y[i]


@lg.kernel
def copy(src: Buffer[f32], dst: Buffer[f32]):
    i = global_id().x
    if i < len(dst):
        dst[i] = src[i]


@lg.kernel(workgroup=(64,))
def scaled_root(a: f32, b: f32, x: Buffer[f32], y: Buffer[f32], n: i32):
    i = global_id().x
    if i >= n:
        return
    y[i] = a * math.sqrt(x[i]) + b


@lg.kernel(workgroup=(64,))
def int_division(d: i32, x: Buffer[i32], q: Buffer[i32], r: Buffer[i32]):
    i = global_id().x
    if i < len(x) and i < len(q) and i < len(r):
        q[i] = x[i] // d + (x[i] * 7) // 3
        r[i] = x[i] % d - x[i] % 5


@lg.kernel(workgroup=(32,))
def index_as_value(x: Buffer[f32], y: Buffer[f32], k: Buffer[i32]):
    i = global_id().x
    if i < len(y):
        t = x[i] * f32(i)
        y[i] = t + f32(i % 3)
        k[i] = i * 2 - 1


@lg.kernel(workgroup=(64,))
def unsigned_bits(x: Buffer[u32], y: Buffer[u32]):
    i = global_id().x
    if len(y) > i:
        y[i] = (x[i] >> 3) ^ (x[i] << 5) | u32(7)


@lg.kernel(workgroup=(64,))
def choices(sign: i32, x: Buffer[f32], y: Buffer[f32], flags: Buffer[i32]):
    i = global_id().x
    if i < len(y):
        v = x[i]
        if sign < 0:  # uniform: stays a branch
            v = -v
        y[i] = v if v > 0.5 else abs(v) * 2.0
        flags[i] = 1 if (x[i] > 0.0 and y[i] < 3.0) or i % 4 == 1 else 0


def unit(v):
    """A simple helper: inlined before the pass runs, so the kernel using it stays element-wise."""
    return clamp(v, 0.0, 1.0)


@lg.kernel(workgroup=(64,))
def helpers_and_branches(flag: i32, x: Buffer[f32], y: Buffer[f32]):
    i = global_id().x
    if i < len(y):
        v = unit(x[i]) + max(x[i], -1.0)
        w = x[i] * 2.0 if flag > 0 else y[i] - x[i]  # a uniform choice between memory reads: a branch
        y[i] = w + v if not math.isnan(x[i]) else -5.0


@lg.kernel(workgroup=(64,))
def chained_comparisons(lo: i32, x: Buffer[i32], y: Buffer[i32], flags: Buffer[i32]):
    """Chains whose middle operand is neither a constant nor a local (evaluated once, through a ``let``)."""
    i = global_id().x
    if i < len(flags):
        v = x[i]
        w = y[i]  # read unconditionally: the chains below may read y in every lane
        a = 1 if (v < v + 1 < v) else 2
        b = 4 if (v - 3 < x[i] * 2 < y[i] + 5) else 8  # a varying middle operand
        c = 16 if (v > 0 and lo < v % 7 <= y[i] < 9) else 32  # behind a per-lane `and`, nested lets
        d = 64 if (v < lo + 1 < w) else 128  # a uniform middle operand
        flags[i] = a + b + c + d + (256 if v <= x[i] < v + 1 else 0)


CHAIN_SIZES = (0, 1, 3, 5, 257, 1023)


def test_chained_comparisons_are_vectorized_and_match_the_emulator():
    assert_vectorized(chained_comparisons)
    for n in CHAIN_SIZES:
        flags = run_both(chained_comparisons, n, np.int32(2), ints(n, -12, 12), ints(n, -12, 12),
                         np.zeros(n, np.int32))[-1]
        if n > 100:  # every term took both outcomes, so no comparison is folded or lost unseen
            for bit in (4, 16, 64):
                assert 0 < np.count_nonzero(flags & bit) < n
            assert np.all(flags & 256) and not np.any(flags & 1)


SPECS = {
    "saxpy": (saxpy, lambda n: (np.float32(2.5), floats(n), floats(n))),
    "copy": (copy, lambda n: (floats(n), np.zeros(n, np.float32))),
    "scaled_root": (scaled_root, lambda n: (np.float32(1.5), np.float32(-0.25), floats(n, 0.0, 9.0),
                                            np.zeros(n, np.float32), np.int32(n))),
    "int_division": (int_division, lambda n: (np.int32(-7), ints(n), np.zeros(n, np.int32), np.zeros(n, np.int32))),
    "index_as_value": (index_as_value, lambda n: (floats(n), np.zeros(n, np.float32), np.zeros(n, np.int32))),
    "unsigned_bits": (unsigned_bits, lambda n: (RNG.integers(0, 2**32, n, dtype=np.uint32), np.zeros(n, np.uint32))),
    "choices_positive": (choices, lambda n: (np.int32(1), floats(n), np.zeros(n, np.float32), np.zeros(n, np.int32))),
    "choices_negative": (choices, lambda n: (np.int32(-1), floats(n), np.zeros(n, np.float32), np.zeros(n, np.int32))),
    "helpers_and_branches_on": (helpers_and_branches, lambda n: (np.int32(1), with_nans(floats(n)), floats(n))),
    "helpers_and_branches_off": (helpers_and_branches, lambda n: (np.int32(0), with_nans(floats(n)), floats(n))),
}


def with_nans(a):
    a[::7] = np.nan
    return a


@pytest.mark.parametrize("name", sorted(SPECS))
def test_vectorized_kernels_match_the_emulator_at_every_size(name):
    kernel, make_args = SPECS[name]
    assert_vectorized(kernel)
    for n in SIZES:
        run_both(kernel, n, *make_args(n), rtol=1e-6, atol=1e-6)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(n=st.integers(0, 3000), grid_extra=st.integers(-300, 300))
def test_any_size_and_grid(n, grid_extra):
    """Sizes and grids of every residue, including grids short of the data and past it."""
    grid = max(0, n + grid_extra)
    run_both(index_as_value, grid, floats(n), np.zeros(n, np.float32), np.zeros(n, np.int32))
    run_both(saxpy, grid, np.float32(0.5), floats(n), floats(n))


def test_aliased_arguments_saxpy_with_x_and_y_the_same_array():
    assert_vectorized(saxpy)
    for n in SIZES:
        host = floats(n)
        device = lg.array(host)
        saxpy[n](np.float32(3.0), device, device)
        saxpy.emulate[n](np.float32(3.0), host, host)
        np.testing.assert_allclose(device.numpy(), host, rtol=1e-6)


def test_aliased_arguments_written_twice():
    assert_vectorized(int_division)
    for n in (5, 257):
        host = ints(n)
        device = lg.array(host)
        int_division[n](np.int32(3), device, device, device)  # x, q and r all one array
        int_division.emulate[n](np.int32(3), host, host, host)
        np.testing.assert_array_equal(device.numpy(), host)


@pytest.mark.parametrize("grid", [1, 64, 70, 300])
def test_a_grid_smaller_than_the_bound_leaves_the_rest_alone(grid):
    """The scalar kernel runs ceil(grid / 64) * 64 invocations: the vectorized one touches exactly those
    elements, though the bound (n) goes further and its workgroups cover 4 times as many."""
    n = 1000
    run_both(scaled_root, grid, np.float32(2.0), np.float32(1.0), floats(n, 0.0, 4.0), np.full(n, -1, np.float32),
             np.int32(n))


# ---- kernels the pass leaves alone -----------------------------------------------------------------
@lg.kernel(workgroup=(64,))
def with_loop(x: Buffer[f32], y: Buffer[f32]):
    i = global_id().x
    if i < len(y):
        s = 0.0
        for k in range(3):
            s += x[i] * f32(k)
        y[i] = s


@lg.kernel(workgroup=(8, 8))
def two_d(x: Buffer[f32, 2], y: Buffer[f32, 2]):
    i = global_id().x
    j = global_id().y
    if i < y.shape[0] and j < y.shape[1]:
        y[i, j] = x[i, j] * 2.0


@lg.kernel(workgroup=(64,))
def strided(x: Buffer[f32], y: Buffer[f32]):
    i = global_id().x
    if i < len(y):
        y[i] = x[2 * i] + x[2 * i + 1]


@lg.kernel(workgroup=(64,))
def neighbours(x: Buffer[f32], y: Buffer[f32]):
    i = global_id().x
    if i < len(y):
        y[i] = x[i + 1] - x[i]


@lg.kernel(workgroup=(64,))
def histogram(x: Buffer[i32], counts: Buffer[i32]):
    i = global_id().x
    if i < len(x):
        atomic_add(counts, x[i], 1)


@lg.kernel(workgroup=(64,))
def lane_dependent_branch(x: Buffer[f32], y: Buffer[f32]):
    i = global_id().x
    if i < len(y):
        if x[i] > 0.0:
            y[i] = x[i]


@lg.kernel(workgroup=(64,))
def speculative_read(x: Buffer[f32], y: Buffer[f32]):
    """``x`` is read only on even lanes: it may be half as long as ``y``, so no lane may read it eagerly."""
    i = global_id().x
    if i < len(y):
        y[i] = x[i // 2] if i % 2 == 0 else 0.0


@lg.kernel(workgroup=(64,))
def conditional_read(x: Buffer[f32], y: Buffer[f32]):
    i = global_id().x
    if i < len(y):
        y[i] = x[i] if i < len(x) else -1.0


@lg.kernel(workgroup=(64,))
def chained_conditional_read(x: Buffer[i32], y: Buffer[i32]):
    """``x`` is read only by a chain behind a per-lane ``and``: it may be shorter than ``y``."""
    i = global_id().x
    if i < len(y):
        y[i] = 1 if (i < len(x) and 0 < x[i] < 5) else 0


@lg.kernel(workgroup=(64,))
def doubles(x: Buffer[f32], y: Buffer[f32]):
    i = global_id().x
    if i < len(y):
        y[i] = x[i] * 2.0


UNCHANGED = {
    "with_loop": (with_loop, lambda n: (floats(n), np.zeros(n, np.float32))),
    "two_d": (two_d, lambda n: (floats(n * 3).reshape(n, 3), np.zeros((n, 3), np.float32))),
    "strided": (strided, lambda n: (floats(2 * n), np.zeros(n, np.float32))),
    "neighbours": (neighbours, lambda n: (floats(n + 1), np.zeros(n, np.float32))),
    "histogram": (histogram, lambda n: (RNG.integers(0, 8, n).astype(np.int32), np.zeros(8, np.int32))),
    "lane_dependent_branch": (lane_dependent_branch, lambda n: (floats(n), np.zeros(n, np.float32))),
    "conditional_read": (conditional_read, lambda n: (floats(n // 2), np.zeros(n, np.float32))),
    "chained_conditional_read": (chained_conditional_read, lambda n: (ints(n // 2, -5, 10), np.zeros(n, np.int32))),
}


@pytest.mark.parametrize("name", sorted(UNCHANGED))
def test_kernels_outside_the_shape_are_left_alone_and_still_right(name):
    kernel, make_args = UNCHANGED[name]
    assert elements(kernel) == 1
    assert ".vec4" not in kernel.disassemble(lg.device().target)
    for n in (1, 5, 257):
        grid = (n, 3) if kernel is two_d else n
        run_both(kernel, grid, *make_args(n), rtol=1e-6, atol=1e-6)


def test_a_read_only_some_lanes_make_is_not_vectorized():
    assert elements(speculative_read) == 1
    n = 257
    run_both(speculative_read, n, floats(n // 2 + 1), np.zeros(n, np.float32))


# ---- switches --------------------------------------------------------------------------------------
def test_generic_targets_keep_one_element_per_invocation():
    """``kernel.spirv()`` without a device is for others to launch: one element per invocation."""
    assert Target().elementwise_width == 1
    assert driver.compile_kernel(doubles, Target()).elements_per_invocation == 1
    assert lg.device().target.elementwise_width == 4


def test_the_pass_is_switched_off_by_legionella_passes(monkeypatch):
    target = lg.device().target
    monkeypatch.setenv("LEGIONELLA_PASSES", "-vectorize")
    assert driver._compile(doubles, target).elements_per_invocation == 1
    monkeypatch.setenv("LEGIONELLA_PASSES", "")
    on = driver._compile(doubles, target)
    assert on.elements_per_invocation == 4
    assert driver._compile(doubles, target).spirv == on.spirv  # deterministic
    assert driver.compile_kernel(doubles, target, vectorize=False).elements_per_invocation == 1


def test_the_vector_views_share_the_scalar_buffers_bindings():
    text = disassemble(saxpy.spirv(lg.device().target))
    for name, binding in (("x", 0), ("y", 1)):
        ids = [line.split()[1] for line in text.splitlines() if line.strip().startswith("OpName") and
               line.split()[2] in (f'"{name}"', f'"{name}.vec4"')]
        assert len(ids) == 2
        for var in ids:
            assert f"OpDecorate {var} Binding {binding}" in text
    assert "ArrayStride 16" in text and "ArrayStride 4" in text


# ---- the launcher ----------------------------------------------------------------------------------
def test_launches_use_a_quarter_of_the_workgroups():
    launcher = Launcher(saxpy, lg.device())
    (header, count), = launcher.plan((4097, 1, 1))
    assert count == (5, 1, 1)  # ceil(ceil(4097 / 256) / 4)
    assert np.frombuffer(header, np.uint32)[4] == 17  # num_groups: the one-element launch's count


def test_arrays_are_aligned_for_vector_loads_so_no_fallback_is_needed():
    launcher = Launcher(saxpy, lg.device())
    arrays = [lg.array(floats(n)) for n in (1, 3, 5, 257)]
    assert all(a.binding[1] % 16 == 0 for a in arrays)
    launcher.launch((3, 1, 1), (np.float32(1.0), arrays[1], arrays[1]))
    assert launcher.fallback is None


def test_unaligned_offsets_use_the_one_element_variant():
    """Forces the fallback: an alignment requirement above the allocator's offsets makes every buffer
    not at offset 0 count as unaligned, as a 4-byte-aligned offset would on a device that allows one."""
    launcher = Launcher(saxpy, lg.device())
    keep = lg.zeros(4)  # so the arrays below do not start at offset 0 of their block
    for n in SIZES:
        x, y = floats(n), floats(n)
        dx, dy = lg.array(x), lg.array(y)
        assert dx.binding[1] or dy.binding[1]  # both cannot start the block: `keep` is older
        launcher.alignment = 1 << 40
        launcher.launch((n, 1, 1), (np.float32(2.0), dx, dy))
        saxpy.emulate[n](np.float32(2.0), x, y)
        np.testing.assert_allclose(dy.numpy(), y, rtol=1e-6)
    assert launcher.fallback is not None and launcher.fallback.elements == 1
    assert keep.size == 4
