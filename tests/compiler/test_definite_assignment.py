"""Reads of locals before assignment (compiler/assignment.py): a read that no path reaches with its local
assigned is a CompileError at the read; a read that only some paths reach assigned compiles, as Python
runs it: the device gives Python's value where the local was assigned and zero elsewhere, under every
pass list (``kernel.emulate`` raises UnboundLocalError there). The ``fold`` pass, fed IR with such a path
directly, keeps the read."""
import numpy as np
import pytest

import legionella as lg
from legionella.compiler import passes
from legionella.compiler.ir import Assign, Expr, Function, If, Loc, Program, Store, Var
from legionella.lang import Buffer, f32, global_id, i32
from legionella.lang.types import BufferType, boolean
from legionella.compiler.ir import BufferRef
import snippets
from differential import run_both, run_on_device

HEADER = "from legionella.lang import *\nFLAG = False\n"
HEADER_LINES = HEADER.count("\n")
PASS_LISTS = ["", "none", "-fold", "fold", "-dce", "-inline", "-sink,-cse"]

BEFORE = "is used before it is assigned"  # the frontend's check, in source order
NO_PATH = "is read before any assignment to it (Python would raise UnboundLocalError here)"  # assignment.py

# (id, snippet, message, line, column of the read), lines relative to `def k`
REFUSED = [
    ("read-before-assignment", """
        def k(a: Buffer[f32]):
            a[1] = y
            y = 1.0
        """, BEFORE, 2, 12),
    ("augmented-before-assignment", """
        def k(a: Buffer[i32]):
            n += 1
            a[0] = n
        """, BEFORE, 2, 5),
    ("constant-condition-false", """
        def k(a: Buffer[i32]):
            if FLAG:
                x = 1
            a[0] = x
        """, NO_PATH, 4, 12),
    ("for-body-after-empty-literal-range", """
        def k(a: Buffer[i32]):
            for j in range(3, 0):
                x = j
            a[0] = x
        """, NO_PATH, 4, 12),
]


@pytest.mark.parametrize("snippet, message, line, col", [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_a_read_no_path_reaches_assigned_is_refused_at_the_read(snippet, message, line, col, tmp_path):
    snippets.refused_snippet(HEADER, snippet, tmp_path, message, line, col)


def test_a_helper_is_checked_and_the_error_names_the_call_chain(tmp_path):
    snippet = """
        def pick(x: f32) -> f32:
            if x > 0.0:
                if FLAG:
                    r = x
                return r
            return x

        def k(a: Buffer[f32]):
            a[0] = pick(a[1])
        """
    with pytest.raises(lg.CompileError) as info:
        snippets.compile_snippet(HEADER, snippet, tmp_path)
    e = info.value
    assert "'r' is read before any assignment to it" in e.message
    assert (e.lineno, e.col) == (HEADER_LINES + 5, 16)
    assert e.chain[0].startswith("helper 'pick' called from kernel 'k'")


# ---- reads that some paths reach assigned: Python's value there, zero elsewhere ------------------------
def assigned_in_an_if(a: Buffer[f32], o: Buffer[f32]):
    i = global_id().x
    if i < len(a):
        if a[i] > 0.0:
            y = 2.0  # a constant: the fold pass must not carry it past the `if`
        o[i] = y


def search(a: Buffer[i32], o: Buffer[i32]):
    i = global_id().x
    if i < len(o):
        found = False
        for k in range(len(a)):
            if a[k] == i:
                where = k  # assigned only when found: read only then
                found = True
                break
        if found:
            o[i] = where + 100
        last = -1
        n = i
        while n > 0:  # may run zero times
            last = n
            step = n
            n -= 1
        if i > 0:
            o[i] += step


@pytest.mark.parametrize("spec", PASS_LISTS)
def test_reads_assigned_on_the_paths_that_run_agree_with_the_emulator(spec, monkeypatch):
    monkeypatch.setenv("LEGIONELLA_PASSES", spec)
    a = np.array([0.5, 2, 4, 7, 1], np.float32)
    run_both(lg.kernel(assigned_in_an_if), len(a), a, np.zeros(len(a), np.float32))
    haystack = np.array([5, 3, 9, 1, 3], np.int32)
    _, out = run_both(lg.kernel(search), 10, haystack, np.zeros(10, np.int32))
    assert out[3] == 101 + 1 and out[0] == 0  # 3 is at index 1; the countdown ends at step 1


@pytest.mark.parametrize("spec", PASS_LISTS)
def test_where_python_would_raise_the_device_reads_zero_under_every_pass_list(spec, monkeypatch):
    monkeypatch.setenv("LEGIONELLA_PASSES", spec)
    kernel = lg.kernel(assigned_in_an_if)
    a = np.array([0.5, -2, 0, 7], np.float32)
    out, = run_on_device(kernel, len(a), a, np.full(len(a), 9.0, np.float32))[1:]
    assert out.tolist() == [2.0, 0.0, 0.0, 2.0]
    with pytest.raises(UnboundLocalError):
        kernel.emulate[len(a)](a, np.zeros(len(a), np.float32))


# ---- well-defined programs compile and agree with the emulator under every pass list ----------------
def both_branches(a: Buffer[f32], o: Buffer[f32]):
    i = global_id().x
    if i < len(a):
        if a[i] > 0.0:
            y = 1.0
        elif a[i] < -1.0:
            y = a[i] * 2.0
        else:
            y = 3.0
        o[i] = y


def early_return(a: Buffer[f32], o: Buffer[f32]):
    i = global_id().x
    if i >= len(a):
        return
    if a[i] > 0.0:
        y = 1.0
    else:
        o[i] = -1.0
        return
    o[i] = y


def loops(a: Buffer[i32], o: Buffer[i32]):
    i = global_id().x
    if i < len(a):
        for k in range(4):  # a literal range that runs: k and last are assigned after it
            last = a[i] + k
        total = k + last
        n = 0
        while n < 3:  # true on entry
            step = n * 2
            n += 1
        total += step
        j = 0
        while True:  # every break path assigns found
            j += 1
            if j > a[i] % 5:
                found = j
                break
            if j == 3:
                found = -j
                break
        total += found
        for m in range(len(a)):
            if m == i:
                continue
            if m > 100:
                break
        o[i] = total


def unpacking_and_helpers(a: Buffer[f32], o: Buffer[f32]):
    i = global_id().x
    if i < len(a):
        lo, hi = sorted_pair(a[i], 1.0)
        o[i] = hi - lo + clipped(a[i])


def sorted_pair(x: f32, y: f32):
    if x < y:
        return x, y
    return y, x


def clipped(x):
    if x > 2.0:
        r = 2.0
    else:
        r = x
    return r


def constant_flag(a: Buffer[i32], o: Buffer[i32]):
    i = global_id().x
    if i < len(a):
        if not FLAG:
            x = a[i] + 1
        o[i] = x


FLAG = False


@pytest.mark.parametrize("spec", PASS_LISTS)
@pytest.mark.parametrize("fn", [both_branches, early_return, unpacking_and_helpers])
def test_every_path_assigned_agrees_with_the_emulator_under_every_pass_list(fn, spec, monkeypatch):
    monkeypatch.setenv("LEGIONELLA_PASSES", spec)
    a = np.array([-3, -1, 0, 0.5, 2, 4, -0.5, 7, 1], np.float32)
    _, out = run_both(lg.kernel(fn), len(a), a, np.zeros(len(a), np.float32))
    assert out.any()


@pytest.mark.parametrize("spec", ["", "none", "-fold"])
@pytest.mark.parametrize("fn", [loops, constant_flag])
def test_loops_that_surely_assign_agree_with_the_emulator(fn, spec, monkeypatch):
    monkeypatch.setenv("LEGIONELLA_PASSES", spec)
    a = np.arange(-4, 9, dtype=np.int32)
    _, out = run_both(lg.kernel(fn), len(a), a, np.zeros(len(a), np.int32))
    assert out.any()


# ---- the fold pass keeps a read on a path that did not assign -----------------------------------------
def test_fold_does_not_carry_a_constant_past_the_if_that_assigned_it():
    """Hand-built IR: ``if c: y = 1.0`` then ``o[0] = y`` must keep
    reading ``y`` after the ``if``, while a read inside the branch becomes the constant."""
    loc = Loc("t.py", 1, 1)
    buffer = BufferRef("o", BufferType(f32, 1), 0, 0)
    y = Var("y", f32)
    cond = Var("c", boolean)
    read = Expr("local", f32, attr=y, loc=loc)
    zero = Expr("const", i32, attr=0, loc=loc)
    body = [Assign(loc, y, Expr("const", f32, attr=1.0, loc=loc)), Store(loc, buffer, zero, (), read)]
    after = Store(loc, buffer, zero, (), read)
    kernel = Function("k", [cond], None, [If(loc, Expr("local", boolean, attr=cond, loc=loc), body, []), after],
                      loc, is_kernel=True)
    program = Program(kernel, [], [buffer], [], (1, 1, 1), [], 32, {buffer})
    passes.fold(program)
    branch, tail = program.kernel.body
    assert branch.body[1].value.op == "const"  # dominated by the assignment
    assert tail.value.op == "local" and tail.value.attr is y
