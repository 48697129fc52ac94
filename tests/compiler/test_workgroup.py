"""Workgroup memory, barriers, atomics and subgroup operations: differential tests on the device (lavapipe)
against ``kernel.emulate`` (which runs a workgroup's invocations cooperatively), the SPIR-V they lower
to, and the CompileErrors for bad input (message, line, column).

Atomic results that depend on the order in which invocations run (the old value under contention,
float sums) are only compared where they cannot differ: final values of commutative updates, old
values of uncontended elements, integer-valued floats.
"""
import functools

import numpy as np
import pytest

import legionella as lg
from legionella.compiler import Target, compile_kernel
from legionella.lang import (Buffer, atomic_add, atomic_and, atomic_compare_exchange, atomic_exchange, atomic_max,
                             atomic_min, atomic_or, atomic_xor, barrier, f32, global_id, group_id, i32, i64,
                             ivec2, local_id, shared, subgroup_add, subgroup_ballot, subgroup_broadcast, subgroup_max,
                             subgroup_min, subgroup_size, u32, u64, uvec4)
from differential import run_both, run_emulated, run_on_device
import snippets

RNG = np.random.default_rng(7)
WG = 64


# ---- block reduction with atomic accumulation ----------------------------------------------------
@lg.kernel(workgroup=(WG,))
def block_reduce(x: Buffer[i32], total: Buffer[i32], partial: Buffer[i32]):
    tile = shared(i32, WG)
    lid = local_id().x
    i = global_id().x
    tile[lid] = x[i] if i < len(x) else 0
    barrier()
    stride = len(tile) // 2
    while stride > 0:
        if lid < stride:
            tile[lid] += tile[lid + stride]
        barrier()
        stride //= 2
    if lid == 0:
        partial[group_id().x] = tile[0]
        atomic_add(total, 0, tile[0])


def test_block_reduction_with_atomic_accumulation():
    x = RNG.integers(-1000, 1000, 200).astype(np.int32)
    total, partial = run_both(block_reduce, len(x), x, np.zeros(1, np.int32), np.zeros(4, np.int32))[1:]
    assert total[0] == x.sum()
    assert np.array_equal(partial, [x[k:k + WG].sum() for k in range(0, 256, WG)])


@lg.kernel(workgroup=(WG,))
def float_block_sum(x: Buffer[f32], total: Buffer[f32]):
    tile = shared(f32, WG)
    lid = local_id().x
    i = global_id().x
    tile[lid] = 0.0
    barrier()
    if i < len(x):
        atomic_add(tile, 0, x[i])
    barrier()
    if lid == 0:
        atomic_add(total, 0, tile[0])


def test_float_atomic_add_on_shared_and_buffer():
    x = RNG.integers(-50, 50, 150).astype(np.float32)  # integer-valued: every order sums exactly
    total = run_both(float_block_sum, len(x), x, np.zeros(1, np.float32))[1]
    assert total[0] == x.sum()


# ---- atomic histogram ----------------------------------------------------------------------------
BINS = 16


@lg.kernel(workgroup=(WG,))
def histogram(values: Buffer[i32], counts: Buffer[u32]):
    local_counts = shared(u32, BINS)
    lid = local_id().x
    if lid < BINS:
        local_counts[lid] = 0
    barrier()
    i = global_id().x
    if i < len(values):
        atomic_add(local_counts, values[i] % BINS, 1)
    barrier()
    if lid < BINS:
        atomic_add(counts, lid, local_counts[lid])


def test_atomic_histogram():
    values = RNG.integers(0, 1000, 300).astype(np.int32)
    counts = run_both(histogram, len(values), values, np.zeros(BINS, np.uint32))[1]
    assert np.array_equal(counts, np.bincount(values % BINS, minlength=BINS))


# ---- workgroup inclusive scan --------------------------------------------------------------------
@lg.kernel(workgroup=(WG,))
def inclusive_scan(x: Buffer[i32], out: Buffer[i32]):
    tile = shared(i32, WG)
    lid = local_id().x
    i = global_id().x
    tile[lid] = x[i] if i < len(x) else 0
    barrier()
    offset = 1
    while offset < WG:
        add = tile[lid - offset] if lid >= offset else 0
        barrier()
        tile[lid] += add
        barrier()
        offset *= 2
    if i < len(out):
        out[i] = tile[lid]


def test_workgroup_inclusive_scan():
    x = RNG.integers(-100, 100, 150).astype(np.int32)
    out = run_both(inclusive_scan, len(x), x, np.zeros_like(x))[1]
    expected = np.concatenate([np.cumsum(x[k:k + WG]) for k in range(0, len(x), WG)])
    assert np.array_equal(out, expected)


# ---- tiled matrix product with 2-D shared tiles --------------------------------------------------
T = 8


@lg.kernel(workgroup=(T, T))
def tiled_matmul(a: Buffer[f32, 2], b: Buffer[f32, 2], c: Buffer[f32, 2]):
    tile_a = shared(f32, (T, T))
    tile_b = shared(f32, (T, T))
    row = global_id().y
    col = global_id().x
    ly = local_id().y
    lx = local_id().x
    n = a.shape[1]
    acc = 0.0
    for t in range(0, n, tile_a.shape[1]):
        tile_a[ly, lx] = a[row, t + lx] if row < a.shape[0] and t + lx < n else 0.0
        tile_b[ly, lx] = b[t + ly, col] if col < b.shape[1] and t + ly < n else 0.0
        barrier()
        for k in range(T):
            acc += tile_a[ly, k] * tile_b[k, lx]
        barrier()
    if row < c.shape[0] and col < c.shape[1]:
        c[row, col] = acc


def test_tiled_matmul_with_2d_shared_tiles():
    a = RNG.standard_normal((13, 21)).astype(np.float32)
    b = RNG.standard_normal((21, 10)).astype(np.float32)
    c = run_both(tiled_matmul, (10, 13), a, b, np.zeros((13, 10), np.float32), rtol=1e-5, atol=1e-5)[2]
    np.testing.assert_allclose(c, a @ b, rtol=1e-4, atol=1e-4)


# ---- 1-D convolution with a halo in shared memory ------------------------------------------------
R = 2


@lg.kernel(workgroup=(WG,))
def convolve(x: Buffer[f32], w: Buffer[f32], out: Buffer[f32]):
    tile = shared(f32, WG + 2 * R)
    lid = local_id().x
    i = global_id().x
    n = len(x)
    tile[lid + R] = x[i] if i < n else 0.0
    if lid < R:
        left = i - R
        tile[lid] = x[left] if left >= 0 else 0.0
        right = i + WG
        tile[lid + WG + R] = x[right] if right < n else 0.0
    barrier()
    if i < n:
        acc = 0.0
        for k in range(2 * R + 1):
            acc += w[k] * tile[lid + k]
        out[i] = acc


def test_convolution_with_halo_in_shared_memory():
    x = RNG.standard_normal(150).astype(np.float32)
    w = np.array([0.1, 0.2, 0.4, 0.2, 0.1], np.float32)
    out = run_both(convolve, len(x), x, w, np.zeros_like(x), rtol=1e-5, atol=1e-6)[2]
    np.testing.assert_allclose(out, np.convolve(x, w[::-1], mode="same"), rtol=1e-5, atol=1e-5)


# ---- each atomic operation -----------------------------------------------------------------------
@lg.kernel(workgroup=(WG,))
def atomics_contended(v: Buffer[i32], acc: Buffer[i32], bits: Buffer[u32], winners: Buffer[i32]):
    i = global_id().x
    if i < len(v):
        x = v[i]
        atomic_add(acc, 0, x)
        atomic_min(acc, 1, x)
        atomic_max(acc, 2, x)
        atomic_and(bits, 0, u32(x) | u32(0xFFFF0000))
        atomic_or(bits, 1, u32(1) << u32(i % 32))
        atomic_xor(bits, 2, u32(x))
        if atomic_compare_exchange(winners, 0, -1, i) == -1:
            atomic_add(winners, 1, 1)


def test_each_atomic_under_contention():
    v = RNG.integers(-10_000, 10_000, 100).astype(np.int32)
    acc = np.array([0, 2**31 - 1, -2**31], np.int32)
    bits = np.array([0xFFFFFFFF, 0, 0], np.uint32)
    winners = np.array([-1, 0], np.int32)
    # Which invocation wins the compare-exchange depends on the device's order of execution, so the
    # winner is checked by its properties rather than compared with the emulator's.
    _, acc, bits, winners = run_on_device(atomics_contended, len(v), v, acc, bits, winners)
    u = v.astype(np.uint32)
    assert list(acc) == [v.sum(), v.min(), v.max()]
    assert bits[0] == np.bitwise_and.reduce(u | np.uint32(0xFFFF0000)) and bits[1] == 0xFFFFFFFF
    assert bits[2] == np.bitwise_xor.reduce(u)
    assert winners[1] == 1 and 0 <= winners[0] < len(v)  # exactly one compare-exchange succeeded


@lg.kernel(workgroup=(WG,))
def atomics_old_values(a: Buffer[u32], old: Buffer[u32, 2]):
    i = global_id().x
    if i < len(a):
        x = u32(i * 7 + 3)
        old[i, 0] = atomic_add(a, i, x)
        old[i, 1] = atomic_min(a, i, x)
        old[i, 2] = atomic_max(a, i, u32(5))
        old[i, 3] = atomic_and(a, i, u32(0xF0F0F0F0))
        old[i, 4] = atomic_or(a, i, u32(0x0000FF00))
        old[i, 5] = atomic_xor(a, i, x)
        old[i, 6] = atomic_exchange(a, i, x * u32(3))
        old[i, 7] = atomic_compare_exchange(a, i, x * u32(3) if i % 2 == 0 else u32(0), u32(12345))


def test_each_atomic_returns_the_old_value():
    a = RNG.integers(0, 2**32, 70, dtype=np.uint64).astype(np.uint32)
    run_both(atomics_old_values, len(a), a, np.zeros((len(a), 8), np.uint32))


@lg.kernel(workgroup=(WG,))
def atomics_64(a: Buffer[i64], b: Buffer[u64], old: Buffer[i64]):
    i = global_id().x
    if i < len(old):
        old[i] = atomic_add(a, 0, i64(i) * i64(1 << 40))
        atomic_max(b, 0, u64(i) << u64(33))
        atomic_min(a, 1, i64(-i) * i64(1 << 35))


def test_64_bit_atomics_on_buffers():
    n = 90
    a, b, old = run_on_device(atomics_64, n, np.zeros(2, np.int64), np.zeros(1, np.uint64), np.zeros(n, np.int64))
    assert a[0] == sum(i * (1 << 40) for i in range(n)) and a[1] == -(n - 1) * (1 << 35)
    assert b[0] == (n - 1) << 33
    # The old values are the partial sums in the device's (unspecified) order of execution: sorted, the
    # steps between them (and up to the total) are exactly the values added, in some order.
    steps = np.diff(np.append(np.sort(old), a[0]))
    assert np.sort(old)[0] == 0 and sorted(steps) == [i * (1 << 40) for i in range(n)]
    emulated_a, emulated_b, _ = run_emulated(atomics_64, n, np.zeros(2, np.int64), np.zeros(1, np.uint64),
                                             np.zeros(n, np.int64))
    assert np.array_equal(emulated_a, a) and np.array_equal(emulated_b, b)


@lg.kernel(workgroup=(WG,))
def shared_atomics(v: Buffer[i32], out: Buffer[i32]):
    lo = shared(i32, 1)
    hi = shared(i32, 1)
    lid = local_id().x
    if lid == 0:
        lo[0] = 2**31 - 1
        hi[0] = -2**31
    barrier()
    i = global_id().x
    if i < len(v):
        atomic_min(lo, 0, v[i])
        atomic_max(hi, 0, v[i])
    barrier()
    if lid == 0:
        out[group_id().x * 2] = lo[0]
        out[group_id().x * 2 + 1] = hi[0]


def test_atomics_on_shared_arrays():
    v = RNG.integers(-10**6, 10**6, 128).astype(np.int32)
    out = run_both(shared_atomics, len(v), v, np.zeros(4, np.int32))[1]
    assert list(out) == [v[:64].min(), v[:64].max(), v[64:].min(), v[64:].max()]


@lg.kernel(workgroup=(WG,))
def histogram_2d(xy: Buffer[i32, 2], counts: Buffer[u32, 2]):
    i = global_id().x
    if i < xy.shape[0]:
        atomic_add(counts, (xy[i, 1], xy[i, 0]), 1)


def test_atomics_on_n_d_buffers_take_a_tuple_index():
    xy = RNG.integers(0, 4, (100, 2)).astype(np.int32)
    counts = run_both(histogram_2d, len(xy), xy, np.zeros((4, 4), np.uint32))[1]
    expected = np.zeros((4, 4), np.uint32)
    np.add.at(expected, (xy[:, 1], xy[:, 0]), 1)
    assert np.array_equal(counts, expected)


def test_only_kernels_with_barriers_or_subgroup_operations_run_cooperatively():
    from legionella.compiler.cooperative import needs_cooperation
    assert needs_cooperation(block_reduce) and needs_cooperation(subgroup_ops)
    assert not needs_cooperation(histogram_2d) and not needs_cooperation(atomics_contended)


# ---- subgroups -----------------------------------------------------------------------------------
@lg.kernel(workgroup=(WG,))
def subgroup_ops(v: Buffer[i32], f: Buffer[f32], out: Buffer[i32, 2], ballots: Buffer[uvec4]):
    i = global_id().x
    size = subgroup_size()
    lane = local_id().x % size
    x = v[i]
    out[i, 0] = subgroup_add(x)
    out[i, 1] = subgroup_min(x)
    out[i, 2] = subgroup_max(x)
    out[i, 3] = subgroup_broadcast(x, 3)
    out[i, 4] = subgroup_broadcast(x, (lane + 1) % size)
    out[i, 5] = size
    out[i, 6] = i32(subgroup_add(f[i]))
    out[i, 7] = i32(subgroup_max(u32(x + 100000)))
    ballots[i] = subgroup_ballot(x % 3 == 0)
    pair = subgroup_broadcast(ivec2(x, -x), 1)
    out[i, 8] = pair.x + 2 * pair.y


def test_subgroup_operations():
    n = 2 * WG
    v = RNG.integers(-1000, 1000, n).astype(np.int32)
    f = RNG.integers(-100, 100, n).astype(np.float32)
    _, _, out, ballots = run_both(subgroup_ops, n, v, f, np.zeros((n, 9), np.int32), np.zeros((n, 4), np.uint32))
    size = lg.device().target.subgroup_size
    assert np.all(out[:, 5] == size)
    groups = v.reshape(-1, size)
    assert np.array_equal(out[:, 0], np.repeat(groups.sum(axis=1), size))
    assert np.array_equal(out[:, 3], np.repeat(groups[:, 3], size))
    assert np.array_equal(out[:, 8], np.repeat(-groups[:, 1], size))
    assert np.array_equal(out[:, 4], np.roll(groups, -1, axis=1).ravel())
    mask = (groups % 3 == 0) << np.arange(size)
    assert np.array_equal(ballots[:, 0], np.repeat(mask.sum(axis=1), size))


# ---- what the SPIR-V is --------------------------------------------------------------------------
def test_lowering_uses_workgroup_variables_barriers_and_scoped_atomics():
    target = lg.device().target
    text = block_reduce.disassemble(target)
    assert "OpVariable %" in text and "Workgroup" in text
    assert "OpControlBarrier" in text and "OpAtomicIAdd" in text
    assert compile_kernel(block_reduce, target).shared_memory == WG * 4
    assert compile_kernel(tiled_matmul, target).shared_memory == 2 * T * T * 4


def test_modules_for_a_spirv_1_3_device_are_valid():
    """Vulkan 1.1 devices take SPIR-V 1.3: extensions (float atomics) and constant broadcast lanes then
    matter; the conftest runs spirv-val on every module compiled here."""
    target = Target(spirv_version=(1, 3), float32_atomic_add=True, float32_atomic_add_shared=True, int64=True,
                    int64_atomics=True, subgroup_operations=frozenset({"basic", "arithmetic", "ballot", "shuffle"}))
    for kernel in (subgroup_ops, atomics_64, float_block_sum, tiled_matmul, atomics_old_values, shared_atomics):
        assert compile_kernel(kernel, target).spirv[:4] == b"\x03\x02\x23\x07"


# ---- the emulator's cooperative scheduling -------------------------------------------------------
@lg.kernel(workgroup=(WG,))
def divergent_subgroups(out: Buffer[i32, 2]):
    i = global_id().x
    lane = local_id().x % subgroup_size()
    a = 0
    if lane < 3:
        a = subgroup_add(1)
    elif lane < 6:
        a = subgroup_add(10)
    b = subgroup_add(1)
    c = 0
    if lane >= 2:
        c = subgroup_max(lane)
    out[i, 0] = a
    out[i, 1] = b
    out[i, 2] = c


def test_subgroup_operations_in_branches_count_the_active_lanes():
    out = run_both(divergent_subgroups, WG, np.zeros((WG, 3), np.int32))[0]
    size = lg.device().target.subgroup_size
    lane = np.arange(WG) % size
    assert np.array_equal(out[:, 0], np.select([lane < 3, lane < 6], [3, 30], 0))
    assert np.all(out[:, 1] == size)
    assert np.array_equal(out[:, 2], np.where(lane >= 2, size - 1, 0))


@lg.kernel(workgroup=(4,))
def failing(out: Buffer[i32]):
    barrier()
    out[global_id().x + 2] = 1


def test_emulator_error_in_one_invocation_names_it_and_stops_the_others():
    with pytest.raises(IndexError) as info:
        failing.emulate[4](np.zeros(4, np.int32))
    assert "global_id=(2, 0, 0)" in "".join(getattr(info.value, "__notes__", []))


# ---- bad input -----------------------------------------------------------------------------------
HEADER = "from legionella.lang import *\nTILE = 16\n"
HEADER_LINES = HEADER.count("\n")


compile_snippet = functools.partial(snippets.compile_snippet, HEADER)


FULL = Target(float32_atomic_add=True, float32_atomic_add_shared=True, int64=True, int64_atomics=True,
              subgroup_operations=frozenset({"basic", "arithmetic", "ballot", "shuffle"}))

# (id, snippet, target, message fragments, line, column); lines count from ``def k``, columns from 1
BAD = [
    ("shared-in-if", """
        def k(a: Buffer[f32]):
            if len(a) > 0:
                tile = shared(f32, 64)
        """, FULL, ["shared() can only be assigned to a name at the top level of a kernel"], 3, 16),
    ("shared-in-loop", """
        def k(a: Buffer[f32]):
            for j in range(2):
                tile = shared(f32, 64)
        """, FULL, ["top level of a kernel", "nested statement"], 3, 16),
    ("shared-in-helper", """
        def helper(x):
            tile = shared(f32, 64)
            return x
        def k(a: Buffer[f32]):
            a[0] = helper(a[0])
        """, FULL, ["top level of a kernel, not in a helper"], 2, 12),
    ("shared-in-expression", """
        def k(a: Buffer[f32]):
            x = shared(f32, 64)[0]
        """, FULL, ["top level of a kernel"], 2, 9),
    ("shared-too-large", """
        def k(a: Buffer[f32]):
            small = shared(f32, 1024)
            tile = shared(f32, (TILE, 64, 8))
        """, FULL, ["36864 bytes of shared memory", "the 32768 bytes"], 3, 12),
    ("shared-shape-not-constant", """
        def k(a: Buffer[f32]):
            tile = shared(f32, len(a))
        """, FULL, ["known at compile time"], 2, 24),
    ("shared-bool", """
        def k(a: Buffer[f32]):
            tile = shared(bool, 4)
        """, FULL, ["numeric scalar or vector type"], 2, 19),
    ("barrier-under-local-id", """
        def k(a: Buffer[f32]):
            lid = local_id().x
            if lid < 16:
                barrier()
        """, FULL, ["barrier() is reached by only some invocations", "line", "if lid < 16:"], 4, 9),
    ("barrier-under-derived-value", """
        def k(a: Buffer[f32]):
            j = global_id().x * 2
            m = j + 1
            while m > 3:
                barrier()
                m = m // 2
        """, FULL, ["depends on the invocation id"], 5, 9),
    ("barrier-after-divergent-return", """
        def k(a: Buffer[f32]):
            i = global_id().x
            if i >= len(a):
                return
            barrier()
        """, FULL, ["a return under a condition that depends on the invocation id"], 5, 5),
    ("barrier-in-loop-with-divergent-break", """
        def k(a: Buffer[f32]):
            for t in range(4):
                if local_id().x == t:
                    break
                barrier()
        """, FULL, ["a loop that some invocations leave early"], 5, 9),
    ("barrier-in-id-bounded-loop", """
        def k(a: Buffer[f32]):
            for t in range(local_id().x):
                barrier()
        """, FULL, ["depends on the invocation id"], 3, 9),
    ("barrier-as-a-value", """
        def k(a: Buffer[f32]):
            x = barrier()
        """, FULL, ["returns no value"], 2, 9),
    ("helper-with-barrier-under-local-id", """
        def sync(x):
            barrier()
            return x
        def k(a: Buffer[f32]):
            if local_id().x == 0:
                a[0] = sync(a[0])
        """, FULL, ["helper 'sync', which calls barrier(), is reached by only some invocations"], 6, 16),
    ("helper-with-barrier-in-a-conditional-expression", """
        def sync(x):
            barrier()
            return x
        def k(a: Buffer[f32]):
            a[0] = sync(a[0]) if local_id().x < 4 else 0.0
        """, FULL, ["helper 'sync', which calls barrier(), is reached by only some invocations",
                    "local_id().x < 4"], 5, 12),
    ("helper-with-barrier-after-and", """
        def sync(x):
            barrier()
            return x
        def k(a: Buffer[f32]):
            if local_id().x < 4 and sync(a[0]) > 0.0:
                a[0] = 1.0
        """, FULL, ["helper 'sync', which calls barrier(), is reached by only some invocations"], 5, 29),
    ("helper-with-barrier-in-an-id-dependent-condition-region", """
        def sync(x):
            barrier()
            return x
        def k(a: Buffer[f32]):
            if local_id().x < 4:
                while sync(a[0]) > 0.0:
                    a[0] = 0.0
        """, FULL, ["helper 'sync', which calls barrier(), is reached by only some invocations"], 6, 15),
    ("float-atomic-add-unsupported", """
        def k(a: Buffer[f32]):
            atomic_add(a, 0, 1.0)
        """, Target(), ["shaderBufferFloat32AtomicAdd", "the device (a generic Vulkan 1.1 device) does not support"], 2, 5),
    ("float-shared-atomic-add-unsupported", """
        def k(a: Buffer[f32]):
            tile = shared(f32, 4)
            atomic_add(tile, 0, a[0])
        """, Target(float32_atomic_add=True), ["shaderSharedFloat32AtomicAdd"], 3, 5),
    ("int64-atomics-unsupported", """
        def k(a: Buffer[i64]):
            atomic_add(a, 0, 1)
        """, Target(int64=True), ["64-bit integer atomics", "does not support"], 2, 5),
    ("float-atomic-min", """
        def k(a: Buffer[f32]):
            atomic_min(a, 0, 1.0)
        """, FULL, ["atomic_min() works on elements of i32, u32, i64, u64", "not f32"], 2, 5),
    ("atomic-float-into-int", """
        def k(a: Buffer[i32]):
            atomic_add(a, 0, 1.5)
        """, FULL, ["needs an integer value"], 2, 22),
    ("atomic-not-a-buffer", """
        def k(a: Buffer[i32]):
            x = 3
            atomic_add(x, 0, 1)
        """, FULL, ["must be a buffer or a shared array"], 3, 16),
    ("atomic-bool-value", """
        def k(a: Buffer[i32]):
            atomic_or(a, 0, True)
        """, FULL, ["needs a number, not a bool"], 2, 21),
    ("atomic-arity", """
        def k(a: Buffer[i32]):
            atomic_compare_exchange(a, 0, 1)
        """, FULL, ["takes 4 arguments"], 2, 5),
    ("subgroup-unsupported", """
        def k(a: Buffer[i32]):
            a[0] = subgroup_add(a[1])
        """, Target(), ["subgroup arithmetic operations", "does not support"], 2, 12),
    ("subgroup-ballot-unsupported", """
        def k(a: Buffer[i32]):
            b = subgroup_ballot(a[0] > 0)
        """, Target(subgroup_operations=frozenset({"basic", "arithmetic"})), ["subgroup ballot"], 2, 9),
]


@pytest.mark.parametrize("snippet, target, fragments, line, col", [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_input_is_a_located_compile_error(snippet, target, fragments, line, col, tmp_path):
    with pytest.raises(lg.CompileError) as info:
        compile_snippet(snippet, tmp_path, target)
    e = info.value
    for fragment in fragments:
        assert fragment in e.message, e.message
    assert (e.lineno, e.col) == (line + HEADER_LINES, col), str(e)
    assert e.text is not None


GOOD = [
    ("barrier-under-group-id", """
        def k(a: Buffer[f32]):
            tile = shared(f32, 64)
            if group_id().x == 0:
                tile[local_id().x] = 1.0
                barrier()
                a[global_id().x] = tile[0]
        """),
    ("barrier-in-uniform-loop-after-divergent-store", """
        def k(a: Buffer[f32], n: i32):
            tile = shared(f32, 64)
            lid = local_id().x
            for t in range(n):
                if lid < 8:
                    tile[lid] = a[lid]
                barrier()
            if lid == 0:
                return
        """),
    ("helper-with-barrier-called-uniformly", """
        def sync(x):
            barrier()
            return x
        def k(a: Buffer[f32]):
            tile = shared(f32, 4)
            if group_id().x == 0:
                a[0] = sync(a[0])
        """),
    ("shared-passed-to-helper", """
        def fill(tile, i, v):
            tile[i, i] = v
        def k(a: Buffer[f32]):
            tile = shared(f32, (8, 8))
            fill(tile, local_id().x % 8, a[0])
            barrier()
            a[0] = tile[1, 0] + f32(len(tile))
        """),
]


@pytest.mark.parametrize("snippet", [c[1] for c in GOOD], ids=[c[0] for c in GOOD])
def test_uniform_barriers_and_shared_arrays_in_helpers_compile(snippet, tmp_path):
    assert compile_snippet(snippet, tmp_path, FULL).shared_memory > 0


def test_register_tiled_sgemm_with_vec4_shared_tiles():
    import legionella.auto  # noqa: F401  (examples are marked modules)
    from examples import sgemm  # vec4 shared arrays, vector accumulators, helpers writing swizzles
    a = RNG.standard_normal((130, 20)).astype(np.float32)
    b = RNG.standard_normal((20, 70)).astype(np.float32)
    grid = (16, 2 * 16)  # one 16x16 workgroup per 128x128 block of C
    c = run_both(sgemm.sgemm, grid, a, b, np.zeros((130, 70), np.float32), rtol=1e-5, atol=1e-5)[2]
    np.testing.assert_allclose(c, a @ b, rtol=1e-4, atol=1e-4)
