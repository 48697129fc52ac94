"""Differential tests of control flow: if/elif/else, while, for over range with any step, break,
continue, early return, conditional expressions and short-circuit evaluation."""
import numpy as np

import legionella as lg
from legionella.lang import Buffer, f32, global_id, i32
from differential import run_both

N = 40


@lg.kernel
def branches(a: Buffer[i32], out: Buffer[i32]):
    i = global_id().x
    if i >= len(a):
        return
    x = a[i]
    if x < -5:
        y = 1
    elif x < 0:
        y = 2
    elif x == 0:
        y = 3
    else:
        y = 4
        if x > 10:
            y = 5
    out[i] = y


def test_if_elif_else_and_early_return():
    a = np.arange(-20, 20, dtype=np.int32)
    run_both(branches, N + 5, a, np.zeros(N, np.int32))


@lg.kernel
def loops(a: Buffer[i32], out: Buffer[i32, 2]):
    i = global_id().x
    if i < len(a):
        n = a[i]
        total = 0
        for k in range(n):
            total += k
        out[i, 0] = total
        total = 0
        for k in range(n, -3, -2):
            total += k * 3
        out[i, 1] = total
        total = 0
        for k in range(2, 30, 3):
            if k % 2 == 0:
                continue
            if k > n:
                break
            total += k
        out[i, 2] = total
        steps = 0
        m = n + 7
        while m != 1 and steps < 100:
            m = m // 2 if m % 2 == 0 else 3 * m + 1
            steps += 1
        out[i, 3] = steps
        step = 1 if n % 2 == 0 else -1
        total = 0
        for k in range(0, n * step, step):
            total += k
        out[i, 4] = total
        out[i, 5] = k


def test_for_range_with_any_step_while_break_continue():
    a = np.arange(0, N, dtype=np.int32) - 5
    run_both(loops, N, a, np.zeros((N, 6), np.int32))


@lg.kernel
def guarded(a: Buffer[f32], n: i32, out: Buffer[i32]):
    i = global_id().x
    if i < len(out):
        j = i * 2
        ok = j < n and a[j] > 0.0
        out[i] = 1 if ok else 0
        if j >= n or a[j] < -1.0:
            out[i] += 10
        out[i] += 100 if (j < n and a[j] > 1.0) else 200


def test_short_circuit_guards_the_load():
    a = np.linspace(-3, 3, N).astype(np.float32)
    run_both(guarded, N, a, N, np.zeros(N, np.int32))


@lg.kernel
def nested_loops(out: Buffer[i32, 2]):
    g = global_id()
    x = g.x
    y = g.y
    if x < out.shape[1] and y < out.shape[0]:
        count = 0
        for a in range(x + 1):
            for b in range(y + 1):
                if a == b:
                    continue
                if a + b > 12:
                    break
                count += a * b
        out[y, x] = count


def test_nested_loops_over_a_2d_grid():
    run_both(nested_loops, (9, 7), np.zeros((7, 9), np.int32))


@lg.kernel
def while_true(a: Buffer[i32]):
    i = global_id().x
    if i < len(a):
        k = a[i]
        while True:
            k += 1
            if k % 7 == 0:
                break
        a[i] = k


def test_while_true_with_break():
    run_both(while_true, N, np.arange(N, dtype=np.int32))


def first_negative(a, start):
    for k in range(start, len(a)):
        if a[k] < 0.0:
            return k
    return -1


def positive(x):
    return x > 0.0


@lg.kernel
def searches(a: Buffer[f32], out: Buffer[i32, 2]):
    i = global_id().x
    if i < len(a):
        out[i, 0] = first_negative(a, i)
        n = 0
        while i + n < len(a) and a[i + n] >= 0.0:
            n += 1
        out[i, 1] = n
        out[i, 2] = 1 if positive(a[i]) or positive(a[(i + 1) % len(a)]) else 0
        out[i, 3] = i32(a[i] * 10.0) if a[i] > 0.0 else i32(a[(i + 3) % len(a)] * 100.0)
        for k in range(len(a)):
            if k == i + 2:
                out[i, 4] = k
                return
        out[i, 4] = -7


def test_calls_in_short_circuits_loops_with_loads_and_returns_inside_loops():
    a = np.sin(np.arange(N, dtype=np.float32) * 0.7).astype(np.float32)
    run_both(searches, N, a, np.zeros((N, 5), np.int32))


from legionella.lang import group_id, local_id, num_groups, workgroup_size  # noqa: E402


@lg.kernel(workgroup=(4, 2))
def invocation_ids(out: Buffer[i32, 3]):
    g = global_id()
    if g.x < out.shape[1] and g.y < out.shape[0]:
        out[g.y, g.x, 0] = local_id().x + 10 * local_id().y
        out[g.y, g.x, 1] = group_id().x + 10 * group_id().y
        out[g.y, g.x, 2] = num_groups().x + 10 * num_groups().y + 100 * num_groups().z
        out[g.y, g.x, 3] = workgroup_size().x + 10 * workgroup_size().y + 100 * workgroup_size().z


def test_invocation_ids():
    run_both(invocation_ids, (10, 5), np.zeros((5, 10, 4), np.int32))
