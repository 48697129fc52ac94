"""Loops over constant ranges: the ``unroll`` pass (which loops carry ``LoopControl Unroll``), the
counter form an unroller recognises (``j = 0; while j < trip``: spirv-opt unrolls it), and that marked
loops still compute what Python does (device against ``kernel.emulate``), including ``break``,
``continue`` and a body that assigns the loop variable. Ranges at the i32 limits and the shapes that
crashed Mesa are in test_range_loops.py."""
import re
import shutil
import subprocess

import numpy as np
import pytest

import legionella as lg
from legionella.lang import Buffer, f32, global_id, i32, u32
from differential import run_both


def loop_controls(kernel):
    """The LoopControl operand of every OpLoopMerge, in program order."""
    return re.findall(r"OpLoopMerge %\w+ %\w+ (\w+)", kernel.disassemble())


@lg.kernel(workgroup=(8,))
def nested_tiles(a: Buffer[f32], out: Buffer[f32]):
    i = global_id().x
    acc = 0.0
    for t in range(0, a.shape[0], 16):  # run-time trip count: stays a loop
        for k in range(16):  # innermost, 16 constant trips: unrolled
            if t + k < a.shape[0]:
                acc += a[t + k] * f32(k + i)
    out[i] = acc


@lg.kernel(workgroup=(8,))
def constant_outer(out: Buffer[i32]):
    i = global_id().x
    total = 0
    for j in range(4):  # constant, but holds a loop: stays a loop (the unrolled copies would multiply)
        for k in range(3, -7, -2):  # innermost, 5 trips downward: unrolled
            total += j * 10 + k + i
    out[i] = total


@lg.kernel(workgroup=(8,))
def long_loop(out: Buffer[i32]):
    i = global_id().x
    total = 0
    for k in range(33):  # one trip over the limit
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
    while c != u32(3):  # a while loop is never marked: its body may move the counter
        total += c * u32(i + 1)
        c += u32(1)
    out[i] = total


def test_only_short_constant_innermost_loops_are_marked():
    assert loop_controls(nested_tiles) == ["None", "Unroll"]
    assert loop_controls(constant_outer) == ["None", "Unroll"]
    assert loop_controls(long_loop) == ["None"]
    assert loop_controls(exits_early) == ["Unroll"]
    assert loop_controls(counted_by_hand) == ["None"]


def test_marked_loops_compute_what_python_does():
    a = np.random.default_rng(1).standard_normal(37).astype(np.float32)
    run_both(nested_tiles, 8, a, np.zeros(8, np.float32), rtol=1e-5, atol=1e-5)
    for kernel in (constant_outer, long_loop, exits_early):
        run_both(kernel, 8, np.zeros(8, np.int32))
    run_both(counted_by_hand, 8, np.zeros(8, np.uint32))


@pytest.mark.skipif(shutil.which("spirv-opt") is None, reason="needs spirv-opt (SPIRV-Tools)")
def test_an_unroller_unrolls_the_marked_loops(tmp_path):
    module = tmp_path / "kernel.spv"
    module.write_bytes(nested_tiles.compile(lg.device().target).spirv)
    subprocess.run(["spirv-opt", "-O", str(module), "-o", str(tmp_path / "out.spv")], check=True)
    text = subprocess.run(["spirv-dis", str(tmp_path / "out.spv")], check=True, capture_output=True,
                          text=True).stdout
    assert re.findall(r"OpLoopMerge %\w+ %\w+ (\w+)", text) == ["None"]  # only the run-time loop is left
    # one product per unrolled iteration (this spirv-opt fuses a product and its sum into Fma)
    assert text.count("OpFMul") + text.count(" Fma ") == 16
