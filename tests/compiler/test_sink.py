"""The ``sink`` pass (compiler/sink.py): the stores ending both branches of an ``if`` become one store
after it when they write the same element, and only then; every kernel is checked against
``kernel.emulate``."""
import numpy as np

import legionella as lg
from legionella.compiler.entry import build_program
from legionella.compiler.ir import If, Store
from legionella.compiler.passes import run_passes
from legionella.compiler.resolve import choose_workgroup
from legionella.lang import Buffer, barrier, f32, global_id, i32, local_id, shared
from differential import run_both


def stores_after_passes(kernel, enabled):
    """``(stores in the kernel's top-level branches, stores directly in its body or loops)`` after the
    passes named in ``enabled``."""
    program = build_program(kernel, lg.device().target, choose_workgroup(kernel))
    run_passes(program, enabled)
    in_branches = outside = 0

    def walk(stmts, branch):
        nonlocal in_branches, outside
        for s in stmts:
            if isinstance(s, Store):
                if branch:
                    in_branches += 1
                else:
                    outside += 1
            elif isinstance(s, If):
                walk(s.body, True)
                walk(s.orelse, True)
            elif hasattr(s, "body"):
                walk(s.body, branch)
    walk(program.kernel.body, False)
    return in_branches, outside


@lg.kernel(workgroup=(64,))
def guarded_tile(a: Buffer[f32], out: Buffer[f32]):
    tile = shared(f32, (64,))
    i = global_id().x
    l = local_id().x
    if i < len(a):  # the load is out of bounds when this is false: it must stay in the branch
        tile[l] = a[i] * 2.0
    else:
        tile[l] = -1.0
    barrier()
    if i < len(out):
        out[i] = tile[63 - l]


@lg.kernel(workgroup=(64,))
def index_moved_in_branch(out: Buffer[i32]):
    i = global_id().x
    j = i
    if i % 3 == 0:
        j = i + 1  # the branches' indexes name j after different assignments: no merge
        out[j % len(out)] = 7
    else:
        out[j % len(out)] = 5


@lg.kernel(workgroup=(64,))
def index_read_from_memory(idx: Buffer[i32], out: Buffer[i32]):
    i = global_id().x
    if i < len(idx):
        if i % 2 == 0:
            out[idx[i]] = 1  # an index that loads: not merged (stores may change what it reads)
        else:
            out[idx[i]] = 2


@lg.kernel(workgroup=(64,))
def different_elements(out: Buffer[i32]):
    i = global_id().x
    if i < 32:
        if i % 2 == 0:
            out[i] = 1
        else:
            out[i + 32] = 2


def test_one_store_after_the_branches():
    assert stores_after_passes(guarded_tile, {"sink"}) == (1, 1)  # out[i] stays under its if
    assert stores_after_passes(guarded_tile, set()) == (3, 0)
    a = np.arange(100, dtype=np.float32)
    run_both(guarded_tile, 128, a, np.zeros(128, np.float32))


def test_stores_that_may_write_other_elements_stay():
    for kernel in (index_moved_in_branch, different_elements):
        assert stores_after_passes(kernel, {"sink"}) == stores_after_passes(kernel, set())
    assert stores_after_passes(index_read_from_memory, {"sink"}) == (2, 0)
    run_both(index_moved_in_branch, 64, np.zeros(64, np.int32))
    run_both(different_elements, 64, np.zeros(64, np.int32))
    run_both(index_read_from_memory, 64, np.arange(63, -1, -1, dtype=np.int32), np.zeros(64, np.int32))
