"""``for x in range(start, stop, step)``: Python's semantics on the device, and no driver crash.

* Loops that killed the process inside Mesa's NIR loop analysis (SIGFPE from ``INT_MIN / -1`` while it
  folded a trip count; ``legionella/compiler/ranges.py`` says which shapes) run in a child process, which
  must exit cleanly with the emulator's result: the crash cannot be caught inside the test process.
* Differential tests (device against ``kernel.emulate``) for ranges at the i32 limits, where ``x += step``
  would overflow, zero-trip ranges with either step sign, steps known only at run time, ``break``,
  ``continue``, assignments to the loop variable in the body, and the loop variable after the loop.
"""
import json
import subprocess
import sys

import numpy as np
import pytest

import legionella as lg
from legionella.lang import Buffer, global_id, i32
from differential import run_both
from subprocess_env import TESTS, child_env

INT_MAX = 2**31 - 1
INT_MIN = -2**31


# ---- shapes that crashed lavapipe 22.3 with the `x += step` lowering --------------------------------
def find_max(n):
    for k in range(-1, 8, -1):  # zero iterations; INT_MAX - (-1) wraps to INT_MIN, divided by -1
        if k == i32(2147483647):
            return i32(7)
    return i32(5)


@lg.kernel(workgroup=(1,))
def reproducer(out: Buffer[i32]):
    out[0] = find_max(out[0])


@lg.kernel(workgroup=(1,))
def downward_exit_at_int_min(out: Buffer[i32]):
    total = 0
    for k in range(0, -10, -1):  # an exit comparing with INT_MIN: INT_MIN - 0, divided by -1
        if k == i32(-2147483648):
            out[1] = 7
            break
        total += k
    out[0] = total


@lg.kernel(workgroup=(1,))
def downward_to_int_min(out: Buffer[i32]):
    total = 0
    for k in range(0, -2147483648, -1):  # the loop's own exit is the trapping one; left by the break
        total += k
        if k == -5:
            break
    out[0] = total


@lg.kernel(workgroup=(1,))
def upward_exit_at_int_min(out: Buffer[i32]):
    total = 0
    for k in range(3, 2147483647, 1):
        if k == i32(-2147483648) or k > 40:
            break
        total += k
    out[0] = total


@lg.kernel(workgroup=(1,))
def nested(out: Buffer[i32]):
    total = 0
    for a in range(3):
        for k in range(-1, 8, -1):
            if k == i32(2147483647):
                break
            total += 100
        for k in range(a, -2147483648, -1):
            if k == a - 3:
                break
            total += k * k
    out[0] = total


CRASH_CASES = {k.__name__: k for k in (reproducer, downward_exit_at_int_min, downward_to_int_min,
                                       upward_exit_at_int_min, nested)}

CHILD = """
import json, sys
import test_range_loops as t
kernel = t.CRASH_CASES[sys.argv[1]]
device = t.lg.array(t.np.zeros(2, t.np.int32))
kernel[1](device)
host = t.np.zeros(2, t.np.int32)
kernel.emulate[1](host)
print(json.dumps({"device": device.numpy().tolist(), "emulated": host.tolist()}))
"""


@pytest.mark.parametrize("name", sorted(CRASH_CASES))
def test_driver_does_not_crash(name):
    """The child compiles, creates the pipeline and dispatches; it must exit 0 with the emulator's values."""
    child = subprocess.run([sys.executable, "-c", CHILD, name], capture_output=True, text=True, timeout=300,
                           env=child_env(TESTS / "compiler", TESTS))
    assert child.returncode == 0, f"child exited with {child.returncode}:\n{child.stderr[-3000:]}"
    result = json.loads(child.stdout.strip().splitlines()[-1])
    assert result["device"] == result["emulated"]


def test_reproducer_result():
    assert run_both(reproducer, 1, np.zeros(2, np.int32))[0][0] == 5


# ---- differential: literal bounds at the limits, zero trips, break/continue, rebinding -------------
@lg.kernel(workgroup=(1,))
def literal_ranges(out: Buffer[i32, 2]):
    """Row r: iterations, sum of values, first and last value of one range."""
    r, n, total, last = 0, 0, 0, 0
    for k in range(2**31 - 5, 2**31 - 1):
        n, total, last = n + 1, total + k, k
    out[r, 0], out[r, 1], out[r, 2] = n, total, last
    r, n, total = 1, 0, 0
    for k in range(-2**31 + 3, -2**31, -1):
        n, total, last = n + 1, total + k, k
    out[r, 0], out[r, 1], out[r, 2] = n, total, last
    r, n, total = 2, 0, 0
    for k in range(2**31 - 4, 2**31 - 1, 2):  # `k += 2` would wrap past INT_MAX to INT_MIN
        n, total, last = n + 1, total + k, k
    out[r, 0], out[r, 1], out[r, 2] = n, total, last
    r, n, total = 3, 0, 0
    for k in range(-2**31 + 3, -2**31, -2):
        n, total, last = n + 1, total + k, k
    out[r, 0], out[r, 1], out[r, 2] = n, total, last
    r, n, total = 4, 0, 0
    for k in range(-2**31, 2**31 - 1, 2**30):  # 2**32 - 1 apart: the largest span
        n, total, last = n + 1, total + k, k
    out[r, 0], out[r, 1], out[r, 2] = n, total, last
    r, n, total = 5, 0, 0
    for k in range(2**31 - 1, -2**31, -2**31):
        n, total, last = n + 1, total + k, k
    out[r, 0], out[r, 1], out[r, 2] = n, total, last
    r, n, total = 6, 0, 0
    for k in range(5, 10, -1):  # zero trips, negative steps
        n += 1
    for k in range(-1, 8, -1):
        n += 1
    for k in range(0, 0, -3):
        n += 1
    for k in range(-2**31, 2**31 - 1, -1):
        n += 1
    for k in range(2**31 - 1, -2**31, 1 - 2):
        if k < 2**31 - 3:
            break
        total += 1
    out[r, 0], out[r, 1] = n, total


def test_literal_ranges_at_the_limits():
    out, = run_both(literal_ranges, 1, np.zeros((7, 3), np.int32))
    assert out[4].tolist() == [4, -2**31, 2**30] and out[6].tolist()[:2] == [0, 3]


@lg.kernel(workgroup=(8,))
def runtime_ranges(bounds: Buffer[i32, 2], out: Buffer[i32, 2]):
    """Row i: ``range(*bounds[i])`` with everything known only at run time; at most 64 iterations."""
    i = global_id().x
    if i < bounds.shape[0]:
        n, total, first, last = 0, 0, 0, 0
        for k in range(bounds[i, 0], bounds[i, 1], bounds[i, 2]):
            if n == 0:
                first = k
            n += 1
            total += k
            last = k
            if n == 64:
                break
        out[i, 0], out[i, 1], out[i, 2], out[i, 3] = n, total, first, last


RUNTIME_BOUNDS = [
    (0, 10, 1), (0, 10, 3), (10, 0, -3), (0, 10, -1), (10, 0, 1), (5, 5, 1), (5, 5, -1),
    (2**31 - 5, 2**31 - 1, 1), (-2**31 + 3, -2**31, -1), (2**31 - 4, 2**31 - 1, 2), (-2**31 + 3, -2**31, -2),
    (-2**31, 2**31 - 1, 2**30), (2**31 - 1, -2**31, -2**31), (-2**31, 2**31 - 1, 2**31 - 1),
    (-1, 8, -1), (0, -2**31, -1), (-2**31, 2**31 - 1, 1), (2**31 - 1, -2**31, -1), (7, -7, -2**31),
    (-7, 7, 2**31 - 1),
]


def test_runtime_ranges():
    bounds = np.array(RUNTIME_BOUNDS, np.int32)
    _, out = run_both(runtime_ranges, len(bounds), bounds, np.zeros((len(bounds), 4), np.int32))
    assert out[RUNTIME_BOUNDS.index((-2**31, 2**31 - 1, 1)), 0] == 64


def test_runtime_zero_step_runs_no_iteration():
    """Python raises for a zero step; the device cannot, so it runs no iteration (docs/language.md)."""
    bounds = np.array([(0, 10, 0), (10, 0, 0), (3, 3, 0)], np.int32)
    out = lg.array(np.full((3, 4), -1, np.int32))
    runtime_ranges[3](lg.array(bounds), out)
    assert out.numpy()[:, 0].tolist() == [0, 0, 0]


@lg.kernel
def rebinding(a: Buffer[i32], out: Buffer[i32, 2]):
    i = global_id().x
    if i < len(a):
        n = a[i]
        total, k = 0, -100
        for k in range(n, -n - 1, -2):
            k = k * 10  # Python takes the next k from the range regardless
            total += k
            if k == 30:
                continue
            total += 1
        out[i, 0] = total
        out[i, 1] = k
        for k in range(n):
            if k * k > n:
                break
        out[i, 2] = k


def test_break_continue_and_rebinding_the_loop_variable():
    a = np.arange(-3, 20, dtype=np.int32)
    run_both(rebinding, len(a), a, np.zeros((len(a), 3), np.int32))


DETERMINISM = """
import hashlib, test_range_loops as t
from legionella.compiler import Target, compile_kernel
kernels = [t.reproducer, t.nested, t.literal_ranges, t.runtime_ranges, t.rebinding]
print(hashlib.sha256(b''.join(compile_kernel(k, Target()).spirv for k in kernels)).hexdigest())
"""


def test_codegen_is_deterministic_across_processes():
    digests = {subprocess.run([sys.executable, "-c", DETERMINISM], capture_output=True, text=True, check=True,
                              env=child_env(TESTS / "compiler", TESTS, PYTHONHASHSEED=seed)).stdout.strip()
               for seed in ("1", "2")}
    assert len(digests) == 1 and len(digests.pop()) == 64


def continue_blocks(text):
    """The instructions of every loop's continue target in a disassembled module, one list per loop."""
    lines = [line.split() for line in text.splitlines()]
    targets = {words[2] for words in lines if words[:1] == ["OpLoopMerge"]}
    blocks, current = [], None
    for words in lines:
        if words[1:3] == ["=", "OpLabel"]:
            current = [] if words[0] in targets else None
            if current is not None:
                blocks.append(current)
        elif current is not None and words[0] != "OpLine":
            current.append(words)
    return blocks


@pytest.mark.parametrize("kernel", [downward_exit_at_int_min, nested, runtime_ranges],
                         ids=lambda k: k.__name__)
def test_the_only_induction_variable_steps_by_one(kernel):
    """The shape the workaround relies on, checked on any driver (a fixed Mesa would let the crash tests
    pass with any lowering): each loop's continue target only adds the constant 1 to an unsigned counter,
    so the driver never divides by a range's own step."""
    text = kernel.disassemble()
    words = [line.split() for line in text.splitlines()]
    uint = {w[0] for w in words if w[1:] == ["=", "OpTypeInt", "32", "0"]}
    one = {w[0] for w in words if w[1:3] == ["=", "OpConstant"] and w[3] in uint and w[4] == "1"}
    blocks = continue_blocks(text)
    assert blocks
    for block in blocks:
        adds = [w for w in block if w[2:3] == ["OpIAdd"]]
        assert len(adds) == 1 and adds[0][3] in uint and adds[0][5] in one, block
