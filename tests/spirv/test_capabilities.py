"""The capabilities and extensions declared are exactly the ones a module needs (spirv-val cannot tell
us about superfluous ones, so these sets are checked one by one)."""
import pytest

from legionella.spirv import BuilderError, Module, Op, parse
from legionella.spirv.enums import BuiltIn, Capability, Decoration, ExecutionMode, ExecutionModel, StorageClass

from . import modules


def declared(m):
    instructions = parse(m.to_bytes()).instructions
    caps = {i.operands[0].value.name for i in instructions if i.opcode == Op.Capability}
    exts = {i.operands[0].value for i in instructions if i.opcode == Op.Extension}
    return caps, exts


def kernel_with(version=(1, 3), body=lambda m, f: None, interface=()):
    """A compute shader whose body is filled by ``body(m, f)``."""
    m = Module(version=version)
    f = m.function(m.type_void(), [], name="main")
    f.block()
    extra = body(m, f) or ()
    f.return_()
    f.end()
    m.entry_point(ExecutionModel.GLCompute, f.id, "main", [*interface, *extra])
    m.execution_mode(f.id, ExecutionMode.LocalSize, 64, 1, 1)
    return m


def builtin_input(m, builtin, type_id):
    var = m.variable(m.type_pointer(StorageClass.Input, type_id), StorageClass.Input)
    m.decorate(var, Decoration.BuiltIn, builtin)
    return var


@pytest.mark.parametrize("name", sorted(modules.ALL))
def test_hand_built_modules_need_only_shader(name):
    assert declared(modules.ALL[name]()) == ({"Shader"}, set())


@pytest.mark.parametrize("make, caps", [
    (lambda m: m.type_float(64), {"Shader", "Float64"}),
    (lambda m: m.type_int(64), {"Shader", "Int64"}),
    (lambda m: m.type_int(16), {"Shader", "Int16"}),
    (lambda m: m.type_float(16), {"Shader", "Float16"}),
    (lambda m: m.type_int(8), {"Shader", "Int8"}),
    (lambda m: m.type_matrix(m.type_vector(m.type_float(32), 4), 4), {"Shader"}),  # Matrix is implied by Shader
])
def test_scalar_widths(make, caps):
    assert declared(kernel_with(body=lambda m, f: make(m) and None)) == (caps, set())


def test_subgroup_builtin():
    def body(m, f):
        size = builtin_input(m, BuiltIn.SubgroupSize, m.type_int(32, signed=False))
        f.op(Op.Load, m.type_int(32, signed=False), size)
        return [size]
    assert declared(kernel_with(body=body)) == ({"Shader", "GroupNonUniform"}, set())


def test_subgroup_operation_implies_group_non_uniform():
    def body(m, f):
        u32 = m.type_int(32, signed=False)
        size = builtin_input(m, BuiltIn.SubgroupSize, u32)
        value = f.op(Op.Load, u32, size)
        f.op(Op.GroupNonUniformIAdd, u32, m.constant(u32, 3), 0, value)  # Scope Subgroup, Reduce
        return [size]
    assert declared(kernel_with(body=body)) == ({"Shader", "GroupNonUniformArithmetic"}, set())


def test_16bit_storage_buffer_on_1_3_and_1_0():
    def body(m, f):
        half = m.type_float(16)
        block = m.type_struct([half])
        m.decorate(block, Decoration.Block)
        m.member_decorate(block, 0, Decoration.Offset, 0)
        var = m.variable(m.type_pointer(StorageClass.StorageBuffer, block), StorageClass.StorageBuffer)
        m.decorate(var, Decoration.DescriptorSet, 0)
        m.decorate(var, Decoration.Binding, 0)
    assert declared(kernel_with((1, 3), body)) == ({"Shader", "Float16", "StorageBuffer16BitAccess"}, set())
    # Before 1.3 both the storage class and 16-bit storage come from extensions.
    assert declared(kernel_with((1, 0), body)) == (
        {"Shader", "Float16", "StorageBuffer16BitAccess"},
        {"SPV_KHR_16bit_storage", "SPV_KHR_storage_buffer_storage_class"})


def test_explicit_capability_is_kept_and_newer_features_are_refused():
    m = kernel_with(body=lambda m, f: m.capability(Capability.Int64Atomics) and None)
    assert declared(m) == ({"Shader", "Int64Atomics"}, set())  # Int64 is implied by Int64Atomics

    def body(m, f):
        u32 = m.type_int(32, signed=False)
        f.op(Op.GroupNonUniformElect, m.type_bool(), m.constant(u32, 3))
    with pytest.raises(BuilderError, match=r"OpGroupNonUniformElect needs SPIR-V 1\.3; the module is 1\.0"):
        kernel_with((1, 0), body).assemble()


def atomic_kernel(element_type, opcode):
    def body(m, f):
        t = element_type(m)
        block = m.type_struct([t])
        m.decorate(block, Decoration.Block)
        m.member_decorate(block, 0, Decoration.Offset, 0)
        var = m.variable(m.type_pointer(StorageClass.StorageBuffer, block), StorageClass.StorageBuffer)
        m.decorate(var, Decoration.DescriptorSet, 0)
        m.decorate(var, Decoration.Binding, 0)
        u32 = m.type_int(32, signed=False)
        ptr = f.op(Op.AccessChain, m.type_pointer(StorageClass.StorageBuffer, t), var, m.constant(u32, 0))
        f.op(opcode, t, ptr, m.constant(u32, 1), m.constant(u32, 0), m.constant(t, 1))
    return kernel_with(body=body)


@pytest.mark.parametrize("element, opcode, caps, exts", [
    (lambda m: m.type_int(32), Op.AtomicIAdd, {"Shader"}, set()),
    (lambda m: m.type_int(64), Op.AtomicIAdd, {"Shader", "Int64Atomics"}, set()),
    (lambda m: m.type_float(32), Op.AtomicFAddEXT, {"Shader", "AtomicFloat32AddEXT"},
     {"SPV_EXT_shader_atomic_float_add"}),
    (lambda m: m.type_float(32), Op.AtomicFMaxEXT, {"Shader", "AtomicFloat32MinMaxEXT"},
     {"SPV_EXT_shader_atomic_float_min_max"}),
])
def test_atomics_derive_from_their_result_type(element, opcode, caps, exts):
    assert declared(atomic_kernel(element, opcode)) == (caps, exts)
