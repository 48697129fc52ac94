"""Hand-written loops that step a variable by -1: no driver crash, Python's results, and no change to others.

* Loops that killed the process inside Mesa's NIR loop analysis (SIGFPE from ``INT_MIN / -1`` while it
  folded a trip count; ``legionella/compiler/loops.py`` says which shapes) run in a child process, which
  must exit cleanly with the emulator's result: the crash cannot be caught inside the test process. A
  second child compiles them without the rewrite, to show each one is a real reproducer on lavapipe.
* The analysis, on the IR of real kernels: crash shapes (also through a local holding the step, a value
  stored and loaded back, a helper's early return, a vector component) get the opaque start; loops that
  count up, halve, accumulate loaded values or overwrite keep their code.
* Differential tests (device against ``kernel.emulate``) for ``while`` loops stepping by -1 and +1 against
  the i32/u32 limits, with ``break``, ``continue`` and ``return``, nested and in ``for`` loops.
"""
import json
import signal
import subprocess
import sys

import numpy as np
import pytest

import legionella as lg
from legionella.compiler import Target, loops
from legionella.compiler.entry import build_program
from legionella.compiler.ir import If, Loop
from legionella.compiler.passes import run_passes
from legionella.compiler.resolve import choose_workgroup
from legionella.lang import Buffer, barrier, i32, i64, ivec2, local_id, shared, u32
from differential import run_both
from subprocess_env import TESTS, child_env, device_of_a_fresh_process

INT_MAX = 2**31 - 1
INT_MIN = -2**31


# ---- shapes that crashed lavapipe 22.3: (limit - start) wraps to INT_MIN, the step is -1 -------------
@lg.kernel(workgroup=(1,))
def not_equal_int_max(out: Buffer[i32]):
    k, n = -1, 0
    while k != 2147483647:  # INT_MAX - (-1) wraps to INT_MIN, divided by the step -1
        n += 1
        if n > 5:
            break
        k -= 1
    out[0], out[1] = n, k


@lg.kernel(workgroup=(1,))
def break_at_int_min(out: Buffer[i32]):
    k, n = 0, 0
    while n < 10:
        if k == -2147483648:  # an early exit is a loop exit too
            break
        n += 1
        k -= 1
    out[0], out[1] = n, k


@lg.kernel(workgroup=(1,))
def greater_than_int_min(out: Buffer[i32]):
    k, n = 0, 0
    while k > -2147483648:
        n += 1
        if n > 5:
            break
        k -= 1
    out[0], out[1] = n, k


@lg.kernel(workgroup=(1,))
def less_than_int_max(out: Buffer[i32]):
    k, n = -1, 0
    while k < 2147483647:
        n += 1
        if n > 5:
            break
        k -= 1
    out[0], out[1] = n, k


@lg.kernel(workgroup=(1,))
def unsigned_not_equal(out: Buffer[u32]):
    k, n = u32(0), u32(0)
    while k != u32(2147483648):  # k -= 1 adds 0xFFFFFFFF, which is -1 to the driver
        n += 1
        if n > 5:
            break
        k -= 1
    out[0], out[1] = n, k


@lg.kernel(workgroup=(1,))
def int64_not_equal(out: Buffer[i64]):
    k, n = i64(0), i64(0)
    while k != i64(-9223372036854775808):
        n += 1
        if n > 5:
            break
        k -= 1
    out[0], out[1] = n, k


@lg.kernel(workgroup=(1,))
def step_in_a_local(out: Buffer[i32]):
    d = 1  # the driver folds the local: the step is still the constant -1
    k, n = -1, 0
    while k != 2147483647:
        n += 1
        if n > 5:
            break
        k = k - d
    out[0], out[1] = n, k


def countdown(limit):
    k = -1
    while True:
        if k == 2147483647:
            return 7
        k -= 1
        if k < limit:
            return 5


@lg.kernel(workgroup=(1,))
def helper_returns(out: Buffer[i32]):
    out[0] = countdown(-6)  # the helper is inlined with its loop; a return is a loop exit


@lg.kernel(workgroup=(1,))
def inside_a_range(out: Buffer[i32]):
    k = 0
    for i in range(10):  # the range's own counter is safe (ranges.py); k is the user's
        if k == -2147483648:
            break
        k -= 1
    out[0] = k


@lg.kernel(workgroup=(1,))
def exit_on_the_step(out: Buffer[i32]):
    k = 0
    while k > -2147483648:
        k -= 1
        if k < -5:
            break
    out[0] = k


CRASH_CASES = {k.__name__: k for k in (not_equal_int_max, break_at_int_min, greater_than_int_min,
                                       less_than_int_max, unsigned_not_equal, int64_not_equal,
                                       step_in_a_local, helper_returns, inside_a_range, exit_on_the_step)}
DTYPES = {"unsigned_not_equal": "uint32", "int64_not_equal": "int64"}

CHILD = """
import json, sys
import test_while_loops as t
if sys.argv[2] == "unguarded":
    t.loops.opaque_starts = lambda loop: []  # the lowering without the rewrite
kernel = t.CRASH_CASES[sys.argv[1]]
dtype = t.DTYPES.get(sys.argv[1], "int32")
device = t.lg.array(t.np.zeros(2, dtype))
kernel[1](device)
host = t.np.zeros(2, dtype)
kernel.emulate[1](host)
print(json.dumps({"device": device.numpy().tolist(), "emulated": host.tolist()}))
"""


def run_child(name, mode, tmp_path):
    """Compile, create the pipeline and launch in a fresh process with its own kernel cache (so the
    unguarded build is never reused by the guarded one)."""
    env = child_env(TESTS / "compiler", TESTS, LEGIONELLA_CACHE_DIR=str(tmp_path / mode))
    return subprocess.run([sys.executable, "-c", CHILD, name, mode], capture_output=True, text=True,
                          timeout=300, env=env)


@pytest.mark.parametrize("name", sorted(CRASH_CASES))
def test_driver_does_not_crash(name, tmp_path):
    """The child must exit 0 with the emulator's values."""
    child = run_child(name, "guarded", tmp_path)
    assert child.returncode == 0, f"child exited with {child.returncode}:\n{child.stderr[-3000:]}"
    result = json.loads(child.stdout.strip().splitlines()[-1])
    assert result["device"] == result["emulated"]


@pytest.mark.parametrize("name", sorted(CRASH_CASES))
def test_each_case_crashes_lavapipe_without_the_rewrite(name, tmp_path):
    """Without the opaque starts lavapipe 22.3 dies of SIGFPE on every case, so the test above tests
    something; a driver that no longer crashes skips (the rewrite is then only a precaution there)."""
    if "llvmpipe" not in device_of_a_fresh_process().name:
        pytest.skip("the crash is lavapipe's")
    child = run_child(name, "unguarded", tmp_path)
    if child.returncode == 0:
        pytest.skip(f"this driver no longer crashes on {name}")
    assert child.returncode == -signal.SIGFPE, child.stderr[-3000:]


# ---- the analysis on real kernels ---------------------------------------------------------------
def opaque_variables(kernel):
    """For each loop of the kernel's IR after the passes (outermost first), the names of the variables
    that get an opaque start."""
    program = build_program(kernel, Target(int64=True), choose_workgroup(kernel))
    run_passes(program)
    found = []

    def walk(stmts):
        for s in stmts:
            if isinstance(s, Loop):
                found.append(sorted(v.name for v in loops.steps_by_minus_one(s)))
            if isinstance(s, (If, Loop)):
                walk(s.body)
                walk(s.orelse if isinstance(s, If) else s.step)

    for fn in program.functions:
        walk(fn.body)
    return found


@pytest.mark.parametrize("kernel", sorted(CRASH_CASES.values(), key=lambda k: k.__name__),
                         ids=lambda k: k.__name__)
def test_crash_shapes_get_an_opaque_start(kernel):
    assert any("k" in names for names in opaque_variables(kernel))


@lg.kernel(workgroup=(64,))
def ordinary(a: Buffer[i32], n: i32):
    tile = shared(i32, 64)
    lid = local_id().x
    i, total, last = 0, 0, 0
    while i < n:  # counts up
        total += a[i]  # accumulates loaded values
        last = a[i]  # overwrites
        i += 2
    tile[lid] = total + last
    barrier()
    stride = 32
    while stride > 0:  # halves
        if lid < stride:
            tile[lid] += tile[lid + stride]
        barrier()
        stride //= 2
    m, bits = 1024, 0
    while m > 1:
        m >>= 1
        bits += 1
    for j in range(n):
        k = j * 3
        while k % 7 != 0:
            k = k * 2 + 0
    a[lid] = tile[0] + bits


def test_ordinary_loops_keep_their_code():
    """No variable of these loops can step by -1, so none gets an opaque start (a GPU keeps unrolling)."""
    assert opaque_variables(ordinary) == [[], [], [], [], []]


@lg.kernel(workgroup=(1,))
def disguised(a: Buffer[i32], n: i32):
    k = 100
    while k > 0:  # -1 reached through a temporary
        t = k + 2
        k = t - 3
    s = 0
    while s != 7:  # the loaded values cancel out
        s = s + a[0]
        s = s - a[0]
        s -= 1
    h = 5
    while h != 0:  # a homogeneous update, then an offset
        h = h * 1 - 1
    v = ivec2(3, 3)
    while v.x != 0:  # a vector component
        v.x -= 1
    u = u32(9)
    while u != u32(0):  # + 0xFFFFFFFF is -1
        u += u32(4294967295)
    p = 8
    while p != 0:  # -2 per iteration, but -1 on the path through the continue
        p -= 1
        if p % 2 == 1:
            continue
        p -= 1
    w = 0
    while w < n:  # an inner loop moves w by a count the driver may know (and steps it by -1 itself)
        for q in range(2):
            w -= 1
        w += 1
    a[0] = k + s + h + v.y + i32(u) + p + w


def test_disguised_steps_by_minus_one_are_found():
    assert opaque_variables(disguised) == [["k"], ["s"], ["h"], ["v"], ["u"], ["p"], ["w"], ["w"]]


@lg.kernel(workgroup=(1,))
def harmless(a: Buffer[i32], n: i32):
    k = 100
    while k > 0:  # -2 per iteration on every path
        k -= 2
    c = 0
    while c < 50:  # +1 and +3
        if a[c] > 0:
            c += 3
        else:
            c += 1
    s = 0
    while s < 1000:  # a loaded value the driver cannot know
        s += a[1]
    a[0] = k + c + s


def test_other_steps_keep_their_code():
    assert opaque_variables(harmless) == [[], [], []]


# ---- differential: while loops at the limits, both directions, every exit ------------------------
def walk_down(start, stop):
    """Steps of ``k -= 1`` from start until stop, at most 6; returns early at INT_MAX."""
    k = start
    n = 0
    while k != stop:
        if k == 2147483647:
            return -1
        n += 1
        if n == 6:
            return n
        k -= 1
    return n


@lg.kernel(workgroup=(1,))
def limits(out: Buffer[i32, 2]):
    """Row r: (iterations, final k) of one loop stepping by -1 or +1 near the i32 limits."""
    k, n = -2147483645, 0
    while k > -2147483648:  # down to INT_MIN, exact
        k -= 1
        n += 1
    out[0, 0], out[0, 1] = n, k
    k, n = 2147483645, 0
    while k != -2147483648:  # up through INT_MAX, wrapping to INT_MIN
        k += 1
        n += 1
    out[1, 0], out[1, 1] = n, k
    k, n = i32(-2147483647), 0
    while True:  # down through INT_MIN, wrapping to INT_MAX, left by a break
        k -= 1
        n += 1
        if k == 2147483647:
            break
    out[2, 0], out[2, 1] = n, k
    k, n = 2, 0
    while k >= -2147483648:  # never false: left by the break
        if n == 4:
            break
        n += 1
        if k == 0:
            continue
        k -= 1
    out[3, 0], out[3, 1] = n, k
    out[4, 0], out[4, 1] = walk_down(-1, 2147483647), walk_down(3, 0)
    out[5, 0], out[5, 1] = walk_down(i32(-2147483647), 2147483647), walk_down(i32(2147483647), 0)
    total, outer = 0, 3
    while outer != 0:  # nested, both stepping by -1
        inner = outer
        while inner != -2147483648:
            total += inner
            inner -= 1
            if inner < outer - 2:
                break
        outer -= 1
    out[6, 0], out[6, 1] = total, outer


def test_limits():
    out, = run_both(limits, 1, np.zeros((7, 2), np.int32))
    assert out[2].tolist() == [2, INT_MAX] and out[1].tolist() == [3, INT_MIN]


@lg.kernel(workgroup=(8,))
def runtime_limits(starts: Buffer[i32], out: Buffer[i32, 2]):
    """Row i: a down-counting loop from ``starts[i]`` to a constant limit, at most 8 iterations."""
    i = local_id().x
    k = starts[i]
    n = 0
    while k != -2147483648:
        n += 1
        if n == 8 or k == 2147483647:
            break
        k -= 1
    out[i, 0], out[i, 1] = n, k


def test_runtime_starts():
    starts = np.array([0, -1, 5, INT_MAX, INT_MIN, INT_MIN + 3, -2, 1], np.int32)
    run_both(runtime_limits, 1, starts, np.zeros((8, 2), np.int32))


@lg.kernel(workgroup=(1,))
def unsigned_limits(out: Buffer[u32, 2]):
    k, n = u32(3), u32(0)
    while k != u32(4294967294):  # down through 0, wrapping to the top
        k -= 1
        n += 1
    out[0, 0], out[0, 1] = n, k
    k, n = u32(4294967293), u32(0)
    while k != u32(1):  # up through the top, wrapping to 0
        k += 1
        n += 1
    out[1, 0], out[1, 1] = n, k


def test_unsigned_limits():
    out, = run_both(unsigned_limits, 1, np.zeros((2, 2), np.uint32))
    assert out.tolist() == [[5, 4294967294], [4, 1]]
