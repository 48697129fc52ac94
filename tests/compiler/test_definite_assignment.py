"""Definite assignment (compiler/assignment.py): a read of a local that some path may reach before any
assignment is a CompileError naming the ``if`` or loop to assign before, since Python would raise
there and the device would read a value nobody assigned; programs where every path assigns first
compile and agree with ``kernel.emulate`` under every pass list. The ``fold`` pass, fed IR with such a
path directly, keeps the read."""
import numpy as np
import pytest

import legionella as lg
from legionella.compiler import passes
from legionella.compiler.ir import Assign, Expr, Function, If, Loc, Program, Store, Var
from legionella.lang import Buffer, f32, global_id, i32
from legionella.lang.types import BufferType, boolean
from legionella.compiler.ir import BufferRef
import snippets
from differential import run_both

HEADER = "from legionella.lang import *\nFLAG = False\n"
HEADER_LINES = HEADER.count("\n")

# (id, snippet, message fragment, line, column of the read), lines relative to `def k`
REFUSED = [
    ("if-only", """
        def k(a: Buffer[f32]):
            if a[0] > 0.0:
                y = 1.0
            a[1] = y
        """, "'y' may be read before it is assigned (it is assigned only inside the `if` at line {2}); "
             "assign it before the `if`", 4, 12),
    ("nested-if", """
        def k(a: Buffer[f32]):
            if a[0] > 0.0:
                if a[1] > 0.0:
                    y = 1.0
                else:
                    y = 2.0
            else:
                if a[2] > 0.0:
                    y = 3.0
            a[1] = y
        """, "only inside the `if` at line {8}", 10, 12),
    ("augmented-after-if", """
        def k(a: Buffer[i32]):
            if a[0] > 0:
                n = 1
            n += 1
            a[0] = n
        """, "'n' may be read before it is assigned", 4, 5),
    ("component-store-after-if", """
        def k(a: Buffer[f32]):
            if a[0] > 0.0:
                v = vec2(1.0, 2.0)
            v.x = 3.0
            a[0] = v.y
        """, "'v' may be read before it is assigned", 4, 5),
    ("while-body", """
        def k(a: Buffer[i32]):
            n = a[0]
            while n > 0:
                last = n
                n -= 1
            a[1] = last
        """, "it is not assigned on every path through the loop at line {3}: the loop may run zero times", 6, 12),
    ("for-variable-after-runtime-range", """
        def k(a: Buffer[i32]):
            for j in range(len(a)):
                a[j] = 0
            a[0] = j
        """, "'j' may be read before it is assigned (it is not assigned on every path through the loop at line {2}", 4, 12),
    ("for-body-after-empty-literal-range", """
        def k(a: Buffer[i32]):
            for j in range(3, 0):
                x = j
            a[0] = x
        """, "assign it before the loop", 4, 12),
    ("while-true-break-before-assigning", """
        def k(a: Buffer[i32]):
            n = 0
            while True:
                n += 1
                if a[n] == 0:
                    break
                found = n
                if found > 10:
                    break
            a[0] = found
        """, "it is not assigned on every path that leaves the loop at line {3} through a break", 10, 12),
    ("continue-skips-assignment", """
        def k(a: Buffer[i32]):
            for j in range(4):
                if a[j] == 0:
                    continue
                x = a[j]
                a[j] = x
            a[0] = x
        """, "through the loop at line {2}: the loop may run zero times, or a break or continue may skip", 7, 12),
    ("constant-condition-false", """
        def k(a: Buffer[i32]):
            if FLAG:
                x = 1
            a[0] = x
        """, "'x' may be read before it is assigned", 4, 12),
    ("in-a-condition", """
        def k(a: Buffer[i32]):
            if a[0] > 0:
                x = 1
            if x > 0:
                a[0] = 2
        """, "'x' may be read", 4, 8),
]


@pytest.mark.parametrize("snippet, fragment, line, col", [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_a_read_that_may_find_its_local_unassigned_is_refused_at_the_read(snippet, fragment, line, col, tmp_path):
    with pytest.raises(lg.CompileError) as info:
        snippets.compile_snippet(HEADER, snippet, tmp_path)
    e = info.value
    relative = {f"{{{n}}}": str(n + HEADER_LINES) for n in range(1, 12)}
    for key, value in relative.items():
        fragment = fragment.replace(key, value)
    assert fragment in e.message
    assert (e.lineno, e.col) == (HEADER_LINES + line, col)
    assert e.filename.endswith(".py") and e.text is not None
    rendered = str(e)
    assert rendered.splitlines()[2].index("^") == col - 1 - (len(e.text) - len(e.text.lstrip())) + 4
    assert "in kernel 'k'" in rendered


def test_a_helper_is_checked_and_the_error_names_the_call_chain(tmp_path):
    snippet = """
        def pick(x: f32) -> f32:
            if x > 0.0:
                r = x
            return r

        def k(a: Buffer[f32]):
            a[0] = pick(a[1])
        """
    with pytest.raises(lg.CompileError) as info:
        snippets.compile_snippet(HEADER, snippet, tmp_path)
    e = info.value
    assert "'r' may be read before it is assigned" in e.message
    assert (e.lineno, e.col) == (HEADER_LINES + 4, 12)
    assert e.chain[0].startswith("helper 'pick' called from kernel 'k'")


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


@pytest.mark.parametrize("spec", ["", "none", "-fold", "fold", "-dce", "-inline", "-sink,-cse"])
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
    """Hand-built IR (the frontend now refuses this program): ``if c: y = 1.0`` then ``o[0] = y`` must keep
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
