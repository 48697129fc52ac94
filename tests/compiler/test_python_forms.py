"""Python forms users write that the kernel language takes as Python does: chained assignment, and
truthiness of the operands of ``and``/``or`` in a condition. Device == kernel.emulate."""
import numpy as np

import legionella as lg
from legionella.lang import Buffer, f32, global_id, i32, u32

from differential import run_both


@lg.kernel(workgroup=(8,))
def chained(a: Buffer[f32], counts: Buffer[i32]):
    i = global_id().x
    if i < len(a):
        s = t = 0.0  # a literal: each target f32
        n = m = counts[i] * 2  # evaluated once
        a[i] = s + t + f32(n + m)
        counts[i] = k = counts[i] + i  # a buffer element and a new local
        a[i] += f32(k)


@lg.kernel(workgroup=(8,))
def truthy(mask: Buffer[u32], x: Buffer[f32], out: Buffer[i32]):
    i = global_id().x
    if i < len(out):
        if mask[i] and i > 0:
            out[i] = 1
        elif x[i] or mask[i]:
            out[i] = 2
        k = 0
        while mask[i] and k < 3:
            k += 1
        out[i] += k * 10 + (5 if mask[i] and x[i] else 0)


def test_chained_assignment_evaluates_once_and_stores_left_to_right():
    a, counts = run_both(chained, 8, np.zeros(8, np.float32), np.arange(8, dtype=np.int32))
    assert counts.tolist() == [2 * i for i in range(8)]
    np.testing.assert_array_equal(a, 6.0 * np.arange(8))


def test_and_or_operands_are_truth_values_in_conditions():
    mask = np.array([1, 0, 3, 0, 5, 0, 0, 2], np.uint32)
    x = np.array([0, 1.5, 0, 0, 2, 0, -1, 0], np.float32)
    out, = run_both(truthy, 8, mask, x, np.zeros(8, np.int32))[2:]
    expected = [(1 if m and i > 0 else 2 if v or m else 0) + (30 if m else 0) + (5 if m and v else 0)
                for i, (m, v) in enumerate(zip(mask, x))]
    assert out.tolist() == expected
