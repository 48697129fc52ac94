"""Subgroup operations on 8-, 16- and 64-bit integers and f16 need shaderSubgroupExtendedTypes: enabled
where the device has it, a CompileError naming it where it does not."""
import numpy as np
import pytest

import legionella as lg
from legionella.compiler import Target
from legionella.lang import Buffer, global_id, i32, i64, local_id, subgroup_add, subgroup_ballot, subgroup_max

from differential import run_both
from snippets import compile_snippet


@lg.kernel(workgroup=(64,))
def wide_subgroup_sums(x: Buffer[i64], out: Buffer[i64]):
    i = global_id().x
    if i < len(x):
        out[i] = subgroup_add(x[i]) + subgroup_max(x[i])


def test_64_bit_subgroup_operations_run_where_the_device_has_extended_types():
    target = lg.device().target
    if not (target.subgroup_extended_types and target.int64 and "arithmetic" in target.subgroup_operations):
        pytest.skip("the device lacks 64-bit subgroup arithmetic")
    x = np.arange(64, dtype=np.int64) * 2**33  # sums beyond 32 bits
    run_both(wide_subgroup_sums, 64, x, np.zeros(64, np.int64))  # the validation layer checks the feature


def test_without_extended_types_a_64_bit_subgroup_operation_is_a_compile_error(tmp_path):
    target = Target(int64=True, subgroup_operations=frozenset({"basic", "arithmetic"}))
    with pytest.raises(lg.CompileError) as info:
        compile_snippet("from legionella.lang import *\n", """
            def k(x: Buffer[i64]):
                i = global_id().x
                x[i] = subgroup_add(x[i])
        """, tmp_path, target)
    assert "subgroup_add() of a i64 value needs subgroup operations on 64-bit types" in info.value.message
    assert "shaderSubgroupExtendedTypes" in info.value.message
    assert (info.value.lineno, info.value.col) == (4, 25)


@lg.kernel(workgroup=(8,))
def subgroup_in_expressions(o: Buffer[i32, 2]):
    lane = local_id().x
    o[lane, 0] = subgroup_add(1) if lane >= 4 else -1
    o[lane, 1] = i32(lane >= 4 and subgroup_add(1) == 4)
    o[lane, 2] = i32(subgroup_ballot(True).x) if lane >= 4 else 0


def test_subgroup_operations_in_conditional_expressions_run_only_where_taken():
    """A subgroup operation's result depends on which invocations run it, so a conditional expression or
    an and/or around one must branch, not evaluate both sides in every lane and select."""
    target = lg.device().target
    if not {"arithmetic", "ballot"} <= target.subgroup_operations or target.subgroup_size < 8:
        pytest.skip("the device lacks subgroup arithmetic and ballot on 8 lanes")
    out, = run_both(subgroup_in_expressions, 8, np.zeros((8, 3), np.int32))
    assert out[:, 0].tolist() == [-1] * 4 + [4] * 4 and out[:, 1].tolist() == [0] * 4 + [1] * 4
    assert out[:, 2].tolist() == [0] * 4 + [0xF0] * 4
