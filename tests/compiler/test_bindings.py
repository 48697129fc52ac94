"""``# legionella: binding`` globals used by kernels: their declared set and binding, shapes after the
parameters' push constants, CompiledKernel.globals, and the errors for what cannot be bound."""
import pytest

import legionella as lg
from legionella.compiler import Target, compile_kernel
from legionella.lang import Buffer, Uniform, f32, global_id, i32, vec4
from legionella.lang.binding import BindingDecl
from legionella.spirv import disassemble

# What the import hook makes of "# legionella: binding set=1 binding=2" above "PALETTE = Buffer[vec4]".
PALETTE = BindingDecl(Buffer[vec4], name="PALETTE", module=__name__, descriptor_set=1, binding=2)
COUNTS = BindingDecl(Buffer[i32, 2], name="COUNTS", module=__name__, descriptor_set=1, binding=3)
CLASH = BindingDecl(Buffer[f32], name="CLASH", module=__name__, descriptor_set=0, binding=0)
PARAMS = BindingDecl(Uniform[vec4], name="PARAMS", module=__name__, descriptor_set=2, binding=0)


def shade(i):
    return PALETTE[i % len(PALETTE)]


@lg.kernel
def uses_globals(out: Buffer[vec4], scale: f32):
    i = global_id().x
    if i < len(out):
        out[i] = shade(i) * scale
        COUNTS[0, i % COUNTS.shape[1]] += 1


def test_globals_take_their_declared_set_and_binding():
    ck = compile_kernel(uses_globals, Target())
    palette, counts = ck.globals
    assert (palette.name, palette.module, palette.set, palette.binding) == ("PALETTE", __name__, 1, 2)
    assert not palette.writes and counts.writes
    assert palette.shape_offset == 40 and counts.shape_offset == 44  # after out's shape (32) and scale (36)
    assert ck.push_constant_size == 52
    text = disassemble(ck.spirv)
    assert "DescriptorSet 1" in text and "Binding 2" in text and "Binding 3" in text


@lg.kernel
def clashes(out: Buffer[f32]):
    out[0] = CLASH[0]


@lg.kernel
def uniform_global(out: Buffer[vec4]):
    out[0] = PARAMS * PARAMS.x  # a scalar or vector Uniform reads as NAME itself


def test_a_global_on_a_parameter_binding_is_a_compile_error():
    with pytest.raises(lg.CompileError, match="which this kernel's buffer parameter 'out' uses"):
        compile_kernel(clashes, Target())


def test_a_uniform_global_is_a_uniform_block_with_no_shape():
    ck = compile_kernel(uniform_global, Target())
    (params,) = ck.globals
    assert (params.set, params.binding, params.shape_offset, params.writes) == (2, 0, -1, False)
    assert ck.push_constant_size == 36  # the header and out's shape only
    text = disassemble(ck.spirv)
    assert any(line.endswith("Uniform") and "OpVariable" in line for line in text.splitlines())


def test_dependency_hash_covers_the_declarations():
    from legionella.compiler import dependency_hash
    before = dependency_hash(uses_globals)
    global COUNTS
    saved = COUNTS
    try:
        COUNTS = BindingDecl(Buffer[i32, 2], name="COUNTS", module=__name__, descriptor_set=1, binding=4)
        assert dependency_hash(uses_globals) != before
    finally:
        COUNTS = BindingDecl(Buffer[i32, 2], name="COUNTS", module=__name__, descriptor_set=1, binding=3)
    assert dependency_hash(uses_globals) == before
    assert saved.binding == 3
