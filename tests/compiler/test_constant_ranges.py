"""Loops over constant ranges: the counter form loop optimisers recognise (``j = 0; while j < trip``,
see compiler/ranges.py), and that such loops compute what Python does (device against
``kernel.emulate``), including ``break``, ``continue`` and a body that assigns the loop variable.
Ranges at the i32 limits and the shapes that crashed Mesa are in test_range_loops.py.

No loop carries an unroll hint: on the H200, ``LoopControl Unroll`` on examples/sgemm.py's inner loops
made it 14% slower (32.1 against 37.4 TFLOP/s; glslang's build of the same algorithm: 38.2)."""
import re

import numpy as np

import legionella as lg
from legionella.lang import Buffer, f32, global_id, i32, u32
from differential import run_both


def loop_exits(kernel):
    """The comparison each loop's header branches on, in program order (a header holds only its test)."""
    text = kernel.disassemble()
    return [re.search(r"= (Op\w+Than|OpINotEqual|OpIEqual|OpLogical\w+) ", header).group(1)
            for header in re.findall(r"OpLoopMerge[^\n]*\n(?:.*\n){1,8}?.*OpBranchConditional", text)]


@lg.kernel(workgroup=(8,))
def nested_tiles(a: Buffer[f32], out: Buffer[f32]):
    i = global_id().x
    acc = 0.0
    for t in range(0, a.shape[0], 16):  # a trip count known only at run time
        for k in range(16):  # 16 constant trips
            if t + k < a.shape[0]:
                acc += a[t + k] * f32(k + i)
    out[i] = acc


@lg.kernel(workgroup=(8,))
def constant_outer(out: Buffer[i32]):
    i = global_id().x
    total = 0
    for j in range(4):  # constant, around another loop
        for k in range(3, -7, -2):  # 5 trips downward
            total += j * 10 + k + i
    out[i] = total


@lg.kernel(workgroup=(8,))
def long_loop(out: Buffer[i32]):
    i = global_id().x
    total = 0
    for k in range(33):  # 33 trips
        total += k ^ i
    out[i] = total


@lg.kernel(workgroup=(8,))
def exits_early(out: Buffer[i32]):
    i = global_id().x
    total = 0
    for k in range(20):
        if k == i + 3:
            break
        if k % 3 == 1:
            continue
        total += k
        k = 100  # Python rebinds k from the range at the next iteration
        total += k
    out[i] = total


@lg.kernel(workgroup=(8,))
def counted_by_hand(out: Buffer[u32]):
    i = global_id().x
    total = u32(0)
    c = u32(4294967294)
    while c != u32(3):  # a while loop keeps the test it was written with
        total += c * u32(i + 1)
        c += u32(1)
    out[i] = total


def test_constant_ranges_count_up_to_their_trip_count():
    assert loop_exits(nested_tiles)[1] == "OpULessThan"  # range(16); the outer range is decided at run time
    assert loop_exits(constant_outer) == ["OpULessThan", "OpULessThan"]
    assert loop_exits(long_loop) == ["OpULessThan"]
    assert "OpULessThan" not in loop_exits(counted_by_hand)


def test_constant_ranges_compute_what_python_does():
    a = np.random.default_rng(1).standard_normal(37).astype(np.float32)
    run_both(nested_tiles, 8, a, np.zeros(8, np.float32), rtol=1e-5, atol=1e-5)
    for kernel in (constant_outer, long_loop, exits_early):
        run_both(kernel, 8, np.zeros(8, np.int32))
    run_both(counted_by_hand, 8, np.zeros(8, np.uint32))
