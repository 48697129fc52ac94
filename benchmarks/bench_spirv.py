"""Throughput of the SPIR-V emitter: instructions emitted per second for a 10,000-instruction module.

Run: ``python -m pytest benchmarks/bench_spirv.py``. Two figures (see ``extra_info``): building the module
through ``FunctionBuilder.op`` (grammar checks included) plus ``to_bytes()``, and ``assemble()`` alone.
Target: 1,000,000 instructions per second. The reference measured in the same run is the floor any
Python emitter pays: appending the very same words, precomputed, to a buffer and viewing it as numpy;
``extra_info["ratio_to_raw_words"]`` is the builder's time over that.
"""
import timeit
from array import array

import numpy as np

from legionella.spirv import Module, Op, parse
from legionella.spirv.enums import ExecutionMode, ExecutionModel, StorageClass

INSTRUCTIONS = 10_000


def build(count=INSTRUCTIONS):
    """A compute shader of ``count`` instructions in its function: a chain of integer and float arithmetic."""
    m = Module()
    void, i32, f32 = m.type_void(), m.type_int(32), m.type_float(32)
    ptr_i, ptr_f = m.type_pointer(StorageClass.Function, i32), m.type_pointer(StorageClass.Function, f32)
    f = m.function(void, [], name="main")
    f.block()
    vi, vf = f.variable(ptr_i), f.variable(ptr_f)
    x, y = f.op(Op.Load, i32, vi), f.op(Op.Load, f32, vf)
    ops = (Op.IAdd, Op.IMul, Op.ISub, Op.FAdd, Op.FMul, Op.FSub)
    for n in range(count - 10):  # + OpFunction, OpLabel, 2 variables, 2 loads, 2 stores, OpReturn, OpFunctionEnd
        opcode = ops[n % 6]
        if n % 6 < 3:
            x = f.op(opcode, i32, x, x)
        else:
            y = f.op(opcode, f32, y, y)
    f.op(Op.Store, None, vi, x)
    f.op(Op.Store, None, vf, y)
    f.return_()
    f.end()
    m.entry_point(ExecutionModel.GLCompute, f.id, "main")
    m.execution_mode(f.id, ExecutionMode.LocalSize, 1, 1, 1)
    return m


def _per_second(benchmark):
    rate = INSTRUCTIONS / benchmark.stats.stats.mean
    benchmark.extra_info["instructions_per_second"] = round(rate)
    return rate


def _raw_words_seconds(words):
    """Seconds to append ``words``' instructions one tuple each to an array('I') and view it as numpy."""
    instructions, position = [], 5
    while position < len(words):
        count = int(words[position]) >> 16
        instructions.append(tuple(int(w) for w in words[position:position + count]))
        position += count

    def write():
        out = array("I")
        for instruction in instructions:
            out.extend(instruction)
        return np.frombuffer(out, dtype=np.uint32)
    return min(timeit.repeat(write, number=5, repeat=5)) / 5


def test_module_has_the_advertised_size():
    instructions = parse(build().to_bytes()).instructions
    start = next(i for i, ins in enumerate(instructions) if ins.opcode == Op.Function)
    assert len(instructions) - start == INSTRUCTIONS


def test_build_and_emit(benchmark):
    benchmark(lambda: build().to_bytes())
    ratio = benchmark.stats.stats.min / _raw_words_seconds(build().assemble())
    benchmark.extra_info["ratio_to_raw_words"] = round(ratio, 2)
    print(f"\nbuild + to_bytes: {_per_second(benchmark):,.0f} instructions/s, {ratio:.2f}x raw word writing")


def test_assemble_only(benchmark):
    m = build()
    words = benchmark(m.assemble)
    assert words.dtype == np.uint32
    print(f"\nassemble: {_per_second(benchmark):,.0f} instructions/s")
