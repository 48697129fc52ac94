"""Module and FunctionBuilder: deduplication, layout, entry-point interfaces, line info, errors."""
import numpy as np
import pytest

from legionella.spirv import BuilderError, Module, Op, parse
from legionella.spirv.enums import BuiltIn, Decoration, ExecutionMode, ExecutionModel, StorageClass

from . import modules


def opcodes(m):
    return [i.opcode for i in parse(m.to_bytes()).instructions]


def test_types_and_constants_are_deduplicated_but_structs_are_not():
    m = Module()
    f32, u32 = m.type_float(32), m.type_int(32, signed=False)
    assert m.type_float(32) == f32 and m.type_int(32, signed=True) != u32
    assert m.type_vector(f32, 4) == m.type_vector(f32, 4) != m.type_vector(f32, 3)
    assert m.type_array(f32, 8) == m.type_array(f32, 8) != m.type_array(f32, 9)
    assert m.type_pointer(StorageClass.Function, f32) == m.type_pointer(StorageClass.Function, f32)
    assert m.type_struct([f32]) != m.type_struct([f32])
    assert m.constant(f32, 1.0) == m.constant(f32, 1) != m.constant(u32, 1)
    assert m.constant(f32, 0.0) != m.constant(f32, -0.0)  # uniqueness is by bit pattern
    assert m.spec_constant(u32, 1, 0) != m.spec_constant(u32, 1, 1)


def test_constant_encodings():
    m = Module()
    i64, i16, f64, b = m.type_int(64), m.type_int(16), m.type_float(64), m.type_bool()
    m.constant(i64, -2)
    m.constant(i16, -1)
    m.constant(f64, 0.5)
    m.constant(b, True)
    m.constant(b, False)
    constants = [i for i in parse(m.assemble()).instructions if i.opcode in (Op.Constant, Op.ConstantTrue, Op.ConstantFalse)]
    assert [(i.opcode, [o.value for o in i.operands]) for i in constants] == [
        (Op.Constant, [-2]), (Op.Constant, [-1]), (Op.Constant, [0.5]), (Op.ConstantTrue, []), (Op.ConstantFalse, [])]
    words = m.assemble()
    assert 0xFFFFFFFF in words.tolist()  # -1 as i16 is sign-extended to the whole word, as the spec says
    with pytest.raises(BuilderError, match="does not fit"):
        m.constant(i16, 70000)  # 40000 would be accepted: a 16-bit pattern


def test_sections_follow_the_logical_layout():
    order = opcodes(modules.build_workgroup_reverse())
    section = {Op.Capability: 1, Op.Extension: 2, Op.ExtInstImport: 3, Op.MemoryModel: 4, Op.EntryPoint: 5,
               Op.ExecutionMode: 6, Op.String: 7, Op.Source: 7, Op.Name: 8, Op.MemberName: 8, Op.Decorate: 9,
               Op.MemberDecorate: 9}
    ranks = [section.get(op, 10) for op in order[:order.index(Op.Function)]]
    assert ranks == sorted(ranks)


def test_assembly_is_deterministic(module_name):
    build = modules.ALL[module_name]
    first, again = build(), build()
    assert first.to_bytes() == first.to_bytes() == again.to_bytes()
    assert first.assemble().dtype == np.uint32


def test_entry_point_interface_depends_on_version():
    def interface(version):
        ep = next(i for i in parse(modules.build_saxpy(version).to_bytes()).instructions if i.opcode == Op.EntryPoint)
        return [o.value for o in ep.operands[3:]]
    old, new = interface((1, 3)), interface((1, 4))
    assert len(old) == 1  # only the Input variable (GlobalInvocationId)
    assert new[0] == old[0] and len(new) == 4  # plus both storage buffers and the push constants


def test_function_variables_go_to_the_top_of_the_first_block():
    m = Module()
    void, f32 = m.type_void(), m.type_float(32)
    f = m.function(void, [])
    f.block()
    second = m.new_id()
    f.branch(second)
    f.block(second)
    var = f.variable(m.type_pointer(StorageClass.Function, f32))
    f.op(Op.Store, None, var, m.constant(f32, 2.0))
    f.return_()
    f.end()
    m.entry_point(ExecutionModel.GLCompute, f.id, "main")
    m.execution_mode(f.id, ExecutionMode.LocalSize, 1, 1, 1)
    ops = opcodes(m)
    assert ops[ops.index(Op.Label) + 1] == Op.Variable


def test_line_info_is_written_once_per_change():
    m = Module()
    void, i32 = m.type_void(), m.type_int(32)
    source = m.source_file("kernel.py", "x = 1 + 2\n")
    f = m.function(void, [], name="main")
    f.block()
    one = m.constant(i32, 1)
    f.line(source, 3, 5)
    f.op(Op.IAdd, i32, one, one)
    f.op(Op.IAdd, i32, one, one)
    f.line(source, 4, 1)
    f.op(Op.IMul, i32, one, one)
    f.return_()
    f.end()
    m.entry_point(ExecutionModel.GLCompute, f.id, "main")
    m.execution_mode(f.id, ExecutionMode.LocalSize, 1, 1, 1)
    instructions = parse(m.to_bytes()).instructions
    lines = [[o.value for o in i.operands] for i in instructions if i.opcode == Op.Line]
    assert lines == [[source, 3, 5], [source, 4, 1]]
    string = next(i for i in instructions if i.opcode == Op.String)
    assert string.result == source and string.operands[0].value == "kernel.py"


@pytest.fixture
def fn():
    m = Module()
    void, i32 = m.type_void(), m.type_int(32)
    f = m.function(void, [], name="kern")
    return m, f, i32


def test_instruction_after_terminator_names_function_and_block(fn):
    m, f, i32 = fn
    label = f.block()
    f.return_()
    with pytest.raises(BuilderError, match=rf"OpIAdd after the terminator of its block \[in function 'kern' \(%\d+\), block %{label}\]"):
        f.op(Op.IAdd, i32, m.constant(i32, 1), m.constant(i32, 1))


def test_instruction_before_the_first_block(fn):
    m, f, i32 = fn
    with pytest.raises(BuilderError, match=r"OpIAdd before the first block\(\) \[in function 'kern'"):
        f.op(Op.IAdd, i32, m.constant(i32, 1), m.constant(i32, 1))


def test_unterminated_block(fn):
    m, f, i32 = fn
    label = f.block()
    with pytest.raises(BuilderError, match=rf"block %{label} has no terminator at end\(\).*'kern'"):
        f.end()
    with pytest.raises(BuilderError, match=rf"block %{label} is not terminated"):
        f.block()


def test_wrong_operand_kinds(fn):
    m, f, i32 = fn
    f.block()
    one = m.constant(i32, 1)
    with pytest.raises(BuilderError, match=r"OpIAdd: .*must be an int id, got 1\.5.*block"):
        f.op(Op.IAdd, i32, one, 1.5)
    with pytest.raises(BuilderError, match=r"OpIAdd: 1 operand\(s\) too many"):
        f.op(Op.IAdd, i32, one, one, one)
    with pytest.raises(BuilderError, match=r"OpIAdd: missing operand 2"):
        f.op(Op.IAdd, i32, one)
    with pytest.raises(BuilderError, match="must be a MemoryAccess, got <StorageClass"):
        f.op(Op.Load, i32, one, StorageClass.Input)
    with pytest.raises(BuilderError, match="must be a Decoration"):
        m.decorate(one, BuiltIn.Position)
    with pytest.raises(BuilderError, match="OpIAdd: id %999 is not defined"):
        f.op(Op.IAdd, i32, one, 999)


def test_type_used_before_its_definition(fn):
    m, f, i32 = fn
    f.block()
    later = m.new_id()
    with pytest.raises(BuilderError, match=rf"result type {later} is not a type defined before use.*'kern'"):
        f.op(Op.IAdd, later, m.constant(i32, 1), m.constant(i32, 1))
    with pytest.raises(BuilderError, match="type_vector component"):
        m.type_vector(later, 4)


def test_merge_must_be_followed_by_a_branch(fn):
    m, f, i32 = fn
    f.block()
    merge = m.new_id()
    f.selection_merge(merge)
    with pytest.raises(BuilderError, match="follows a merge instruction; expected one of OpBranchConditional"):
        f.op(Op.IAdd, i32, m.constant(i32, 1), m.constant(i32, 1))


def test_branch_to_a_block_that_never_starts(fn):
    m, f, i32 = fn
    f.block()
    missing = m.new_id()
    f.branch(missing)
    with pytest.raises(BuilderError, match=rf"never became blocks: %{missing}"):
        f.end()


def test_unended_function_is_reported_at_assembly(fn):
    m, f, i32 = fn
    with pytest.raises(BuilderError, match="'kern'.*never ended"):
        m.assemble()


def test_duplicate_decorations_are_written_once():
    m = Module()
    arr = m.type_runtime_array(m.type_float(32))
    m.decorate(arr, Decoration.ArrayStride, 4)
    m.decorate(arr, Decoration.ArrayStride, 4)
    assert sum(1 for i in parse(m.assemble()).instructions if i.opcode == Op.Decorate) == 1
