"""parse() and disassemble() against spirv-dis, and the round trip parse(emit(m))."""
import re

import numpy as np
import pytest

from legionella.spirv import Module, Op, disassemble, parse
from legionella.spirv.enums import ExecutionMode, ExecutionModel, MemoryAccess, StorageClass

from . import modules
from .conftest import run_tool


def instruction_lines(text):
    """Instruction lines with whitespace normalised, comments and blank lines dropped."""
    return [" ".join(line.split()) for line in text.splitlines() if line.strip() and not line.startswith(";")]


def literal_module():
    """A module exercising literal kinds: numbers of every width, strings, bit masks with parameters, switch."""
    m = Module()
    void = m.type_void()
    f16, f32, f64 = m.type_float(16), m.type_float(32), m.type_float(64)
    i16, i32, i64, u32 = m.type_int(16), m.type_int(32), m.type_int(64), m.type_int(32, signed=False)
    for t, v in ((f16, 0.1), (f32, 0.1), (f32, 3.0), (f32, -1e30), (f64, 0.1), (i16, -3), (i32, -5),
                 (i64, -(1 << 40)), (u32, 4000000000)):
        m.constant(t, v)
    m.spec_constant(u32, 7, 3)
    m.spec_constant(m.type_bool(), True, 4)
    vec = m.type_vector(f32, 2)
    m.constant_composite(vec, [m.constant(f32, 1.5), m.constant(f32, -2.0)])
    m.constant_null(m.type_struct([vec, u32]))
    point = m.type_struct([f32, f32])
    m.member_name(point, 1, "y")
    m.name(point, "Point")
    source = m.source_file("k \"quoted\".py", "x = 'ü'\n")
    f = m.function(void, [], name="main")
    f.block()
    var = f.variable(m.type_pointer(StorageClass.Function, u32))
    f.line(source, 7, 2)
    f.op(Op.Store, None, var, m.constant(u32, 1), MemoryAccess.Volatile | MemoryAccess.Aligned, 4)
    value = f.op(Op.Load, u32, var)
    cases = [m.new_id() for _ in range(3)]
    f.selection_merge(cases[2])
    f.op(Op.Switch, None, value, cases[2], 1, cases[0], 2, cases[1])
    for label in cases[:2]:
        f.block(label)
        f.branch(cases[2])
    f.block(cases[2])
    f.return_()
    f.end()
    m.entry_point(ExecutionModel.GLCompute, f.id, "main")
    m.execution_mode(f.id, ExecutionMode.LocalSize, 8, 8, 1)
    return m


MODULES = {**modules.ALL, "literals": literal_module}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_disassembly_agrees_with_spirv_dis(name):
    data = MODULES[name]().to_bytes()
    code, reference = run_tool(["spirv-dis", "--raw-id"], data)
    assert code == 0, reference
    ours, theirs = instruction_lines(disassemble(data)), instruction_lines(reference)
    assert len(ours) == len(theirs)
    for mine, expected in zip(ours, theirs):
        assert mine == expected


@pytest.mark.parametrize("name", sorted(MODULES))
def test_parse_round_trips(name):
    m = MODULES[name]()
    words = m.assemble()
    parsed = parse(m.to_bytes())
    assert np.array_equal(parsed.words(), words)
    assert parsed.header.bound == words[3] and parsed.header.version == m.version
    assert parse(words).instructions == parsed.instructions


def test_parsed_operands_are_typed():
    instructions = parse(literal_module().to_bytes()).instructions
    constants = [i.operands[0].value for i in instructions if i.opcode == Op.Constant]
    assert constants[:2] == [pytest.approx(0.1, rel=1e-3), pytest.approx(0.1, rel=1e-7)]
    assert -(1 << 40) in constants and -3 in constants and 4000000000 in constants
    store = next(i for i in instructions if i.opcode == Op.Store)
    assert [o.kind for o in store.operands] == ["IdRef", "IdRef", "MemoryAccess", "LiteralInteger"]


def test_disassembly_layout():
    text = disassemble(modules.build_saxpy().to_bytes())
    assert text.startswith("; SPIR-V\n; Version: 1.3\n")
    assert re.search(r"^               OpCapability Shader$", text, re.M)
    assert re.search(r"^ +%\d+ = OpExtInst %\d+ %\d+ Fma %\d+ %\d+ %\d+$", text, re.M)
