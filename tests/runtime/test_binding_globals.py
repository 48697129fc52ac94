"""``# legionella: binding`` globals end to end: marked modules imported with the hook, kernels launched
with the globals bound through ``NAME.bind(array)`` or a launch keyword, the same results in
``kernel.emulate``, and the errors for what is missing or does not fit."""
import numpy as np
import pytest

import legionella as lg
from legionella.compiler import Target, compile_kernel
from legionella.lang import binding
from legionella.spirv import disassemble

HEADER = """
import dataclasses
from legionella.lang import Buffer, Uniform, f32, global_id, i32, vec4
"""

BUFFER_MODULE = HEADER + """
# legionella: binding set=1 binding=0
TABLE = Buffer[f32]

# legionella: binding set=1 binding=1
HITS = Buffer[i32]


# legionella: kernel
def lookup(out: Buffer[f32], idx: Buffer[i32]):
    i = global_id().x
    if i < len(out):
        out[i] = TABLE[idx[i] % len(TABLE)] * 2.0
        HITS[i] = idx[i]


# legionella: kernel
def scale_table(factor: f32):
    i = global_id().x
    if i < len(TABLE):
        TABLE[i] *= factor
"""

UNIFORM_MODULE = HEADER + """
@dataclasses.dataclass
class Params:
    gain: f32
    count: i32
    offset: vec4


# legionella: binding set=2 binding=0
PARAMS = Uniform[Params]

# legionella: binding set=2 binding=1
BIAS = Uniform[f32]


# legionella: kernel
def affine(out: Buffer[vec4], x: Buffer[f32]):
    i = global_id().x
    if i < PARAMS.count and i < len(out):
        out[i] = PARAMS.offset * (x[i] * PARAMS.gain) + BIAS
"""


@pytest.fixture(autouse=True)
def load(load_marked):
    """conftest's load_marked, for every test here: each starts from an empty binding registry."""
    return load_marked


def test_buffer_binding_bound_with_bind(load):
    mod = load(BUFFER_MODULE)
    table = np.arange(8, dtype=np.float32)
    idx = np.array([3, 9, 0, 7, 1], dtype=np.int32)
    mod.TABLE.bind(lg.array(table))
    mod.HITS.bind(lg.zeros(5, dtype=np.int32))
    out = lg.zeros(5)
    mod.lookup[5](out, lg.array(idx))
    np.testing.assert_array_equal(out.numpy(), table[idx % 8] * 2)
    np.testing.assert_array_equal(mod.HITS.bound.numpy(), idx)


def test_keyword_wins_over_bind_and_emulate_agrees(load):
    mod = load(BUFFER_MODULE)
    mod.TABLE.bind(lg.zeros(4))
    table, hits = np.linspace(1, 2, 6, dtype=np.float32), np.zeros(5, np.int32)
    idx = np.array([5, 4, 3, 2, 1], dtype=np.int32)
    out = lg.zeros(5)
    device_hits = lg.array(hits)
    mod.lookup[5](out, lg.array(idx), TABLE=lg.array(table), HITS=device_hits)
    emulated_out, emulated_hits = np.zeros(5, np.float32), np.zeros(5, np.int32)
    mod.lookup.emulate[5](emulated_out, idx, TABLE=table, HITS=emulated_hits)
    np.testing.assert_array_equal(out.numpy(), emulated_out)
    np.testing.assert_array_equal(device_hits.numpy(), emulated_hits)
    np.testing.assert_array_equal(out.numpy(), table[idx] * 2)


def test_two_kernels_share_one_declaration_and_writes_are_ordered(load):
    mod = load(BUFFER_MODULE)
    table = lg.array(np.arange(4, dtype=np.float32))
    mod.TABLE.bind(table)
    mod.HITS.bind(lg.zeros(4, dtype=np.int32))
    mod.scale_table[4](3.0)  # writes TABLE; lookup must see it (hazard tracking of globals)
    out = lg.zeros(4)
    mod.lookup[4](out, lg.array(np.arange(4, dtype=np.int32)))
    np.testing.assert_array_equal(out.numpy(), np.arange(4) * 3.0 * 2)
    globals_of = {g.name: g for g in compile_kernel(mod.scale_table, Target()).globals}
    assert globals_of["TABLE"].writes and (globals_of["TABLE"].set, globals_of["TABLE"].binding) == (1, 0)
    lookup_globals = {g.name: g for g in compile_kernel(mod.lookup, Target()).globals}
    assert not lookup_globals["TABLE"].writes and lookup_globals["HITS"].writes


def test_missing_binding_names_the_declaration_and_both_ways(load):
    mod = load(BUFFER_MODULE)
    mod.HITS.bind(lg.zeros(4, dtype=np.int32))
    assert mod.HITS.is_bound and not mod.TABLE.is_bound
    with pytest.raises(TypeError) as info:
        mod.lookup[4](lg.zeros(4), lg.zeros(4, dtype=np.int32))
    message = str(info.value)
    assert f"binding {mod.__name__}.TABLE" in message and f"{mod.__file__}:6" in message
    assert "TABLE=array" in message and f"{mod.__name__}.TABLE.bind(array)" in message
    with pytest.raises(TypeError, match="TABLE"):
        mod.lookup.emulate[4](np.zeros(4, np.float32), np.zeros(4, np.int32))


def test_dtype_and_rank_mismatches_are_type_errors(load):
    mod = load(BUFFER_MODULE)
    mod.HITS.bind(lg.zeros(4, dtype=np.int32))
    args = (lg.zeros(4), lg.zeros(4, dtype=np.int32))
    with pytest.raises(TypeError, match=r"binding .*\.TABLE \(Buffer\[f32\].*got an array of int32"):
        mod.lookup[4](*args, TABLE=lg.zeros(4, dtype=np.int32))
    with pytest.raises(TypeError, match=r"binding .*\.TABLE .*2-D array"):
        mod.lookup[4](*args, TABLE=lg.zeros((2, 2)))
    with pytest.raises(TypeError, match="has no parameter or binding named NOPE"):
        mod.lookup[4](*args, TABLE=lg.zeros(4), NOPE=lg.zeros(4))
    with pytest.raises(TypeError, match=r"cannot bind an array of dtype int32"):
        mod.TABLE.bind(np.zeros(4, np.int32))


def test_a_kernel_without_globals_takes_only_its_parameters_as_keywords(load):
    mod = load(HEADER + """
# legionella: kernel
def fill(a: Buffer[f32]):
    a[global_id().x] = 1.0
""")
    with pytest.raises(TypeError, match="has no parameter or binding named X; its parameters: a$"):
        mod.fill[4](lg.zeros(4), X=lg.zeros(4))


def test_a_global_on_a_parameter_binding_is_a_compile_error(load):
    mod = load(HEADER + """
# legionella: binding set=0 binding=1
CLASH = Buffer[f32]


# legionella: kernel
def clash(a: Buffer[f32], b: Buffer[f32]):
    a[0] = CLASH[0] + b[0]
""")
    with pytest.raises(lg.CompileError) as info:
        compile_kernel(mod.clash, Target())
    message = str(info.value)
    assert "parameter 'b'" in message and f"{mod.__file__}:6" in message
    mod.CLASH.bind(lg.zeros(1))
    with pytest.raises(lg.CompileError):
        mod.clash[1](lg.zeros(1), lg.zeros(1))


def test_uniform_dataclass_bound_as_a_value_and_as_an_array(load):
    mod = load(UNIFORM_MODULE)
    x = np.arange(6, dtype=np.float32)
    params = mod.Params(gain=2.0, count=4, offset=lg.vec4(1, 2, 3, 4))
    mod.PARAMS.bind(params)
    mod.BIAS.bind(0.5)
    out = lg.zeros((6, 4))
    mod.affine[6](out, lg.array(x))
    expected = np.zeros((6, 4), np.float32)
    expected[:4] = np.outer(x[:4] * 2.0, [1, 2, 3, 4]) + 0.5
    np.testing.assert_array_equal(out.numpy(), expected)
    emulated = np.zeros((6, 4), np.float32)
    mod.affine.emulate[6](emulated, x)
    np.testing.assert_array_equal(emulated, expected)
    # An lg.Array of one Params, and a keyword value uploaded for this launch only.
    record = binding.uniform_value(lg.lang.types.as_lang_type(mod.Params), params, "test")
    record["count"] = 6
    out2 = lg.zeros((6, 4))
    mod.affine[6](out2, lg.array(x), PARAMS=lg.array(record), BIAS=np.float32(0.0))
    np.testing.assert_array_equal(out2.numpy(), np.outer(x * 2.0, [1, 2, 3, 4]))
    emulated2 = np.zeros((6, 4), np.float32)
    mod.affine.emulate[6](emulated2, x, PARAMS=record[0], BIAS=0.0)
    np.testing.assert_array_equal(emulated2, out2.numpy())


def test_uniform_is_a_uniform_block(load):
    mod = load(UNIFORM_MODULE)
    text = disassemble(compile_kernel(mod.affine, Target()).spirv)
    assert "Uniform" in text and "Block" in text
    (params, bias) = compile_kernel(mod.affine, Target()).globals
    assert params.type.uniform and not params.writes and params.shape_offset == -1


def test_uniform_rebind_uploads_the_new_value(load):
    mod = load(UNIFORM_MODULE)
    mod.PARAMS.bind(mod.Params(gain=1.0, count=2, offset=lg.vec4(1, 1, 1, 1)))
    mod.BIAS.bind(0.0)
    x, out = lg.array(np.ones(2, np.float32)), lg.zeros((2, 4))
    mod.affine[2](out, x)
    mod.BIAS.bind(10.0)
    mod.affine[2](out, x)
    np.testing.assert_array_equal(out.numpy(), np.full((2, 4), 11.0))


def test_uniform_errors(load):
    mod = load(UNIFORM_MODULE)
    with pytest.raises(TypeError, match=r"Uniform\[Params\]: got 3"):
        mod.PARAMS.bind(3)
    mod.BIAS.bind(0.0)
    args = (lg.zeros((2, 4)), lg.zeros(2))
    with pytest.raises(TypeError, match=r"PARAMS .*got an array of float32"):
        mod.affine[2](*args, PARAMS=lg.zeros(8))
    bad = load(HEADER + """
# legionella: binding set=3 binding=0
MATRIX_LIKE = Uniform[vec4]


# legionella: kernel
def write_uniform(a: Buffer[vec4]):
    MATRIX_LIKE.x = a[0].x
""")
    with pytest.raises(lg.CompileError, match="read but never write; declare it as Buffer"):
        compile_kernel(bad.write_uniform, Target())


def test_nested_structs_in_a_uniform_are_refused_with_buffer_suggested(load):
    mod = load(HEADER + """
@dataclasses.dataclass
class Inner:
    a: f32


@dataclasses.dataclass
class Outer:
    inner: Inner
    b: f32


# legionella: binding set=3 binding=1
NESTED = Uniform[Outer]


# legionella: kernel
def read_nested(a: Buffer[f32]):
    a[0] = NESTED.b
""")
    with pytest.raises(lg.CompileError, match=r"field 'inner'.*uniform blocks.*Buffer\[Outer\]"):
        compile_kernel(mod.read_nested, Target())


def test_kernels_with_globals_are_not_vectorized(load):
    mod = load(HEADER + """
# legionella: binding set=1 binding=0
SRC = Buffer[f32]


# legionella: kernel
def copy(out: Buffer[f32]):
    i = global_id().x
    if i < len(out):
        out[i] = SRC[i]


# legionella: kernel
def copy_param(out: Buffer[f32], src: Buffer[f32]):
    i = global_id().x
    if i < len(out):
        out[i] = src[i]
""")
    target = Target(elementwise_width=4)
    assert compile_kernel(mod.copy, target).elements_per_invocation == 1
    assert compile_kernel(mod.copy_param, target).elements_per_invocation > 1  # the pass does run here
    src = np.arange(1000, dtype=np.float32)
    out = lg.zeros(1000)
    mod.copy[1000](out, SRC=lg.array(src))
    np.testing.assert_array_equal(out.numpy(), src)


VECTOR_MODULE = HEADER + """
# legionella: binding set=1 binding=0
COLOR = Uniform[vec4]


def tint(v):
    return v * COLOR.w + COLOR  # a helper reads the uniform too


# legionella: kernel
def paint(out: Buffer[vec4]):
    i = global_id().x
    if i < len(out):
        out[i] = tint(out[i]) * COLOR.x
"""


def test_vector_uniform_read_as_itself_in_a_helper_device_equals_emulate(load):
    mod = load(VECTOR_MODULE)
    start = np.arange(12, dtype=np.float32).reshape(3, 4)
    for color in [(2.0, 0.5, 1.0, 3.0), lg.array(np.array([1.5, 2.0, 0.0, -1.0], np.float32))]:
        out, emulated = lg.array(start), start.copy()
        mod.paint[3](out, COLOR=color)
        mod.paint.emulate[3](emulated, COLOR=color)
        c = np.asarray(color)
        np.testing.assert_allclose(out.numpy(), (start * c[3] + c) * c[0])
        np.testing.assert_array_equal(out.numpy(), emulated)


def test_one_array_as_a_parameter_and_a_written_global(load):
    mod = load(BUFFER_MODULE)
    mod.TABLE.bind(lg.array(np.arange(8, dtype=np.float32)))
    shared = lg.array(np.array([1, 2, 3, 4], np.int32))
    out = lg.zeros(4)
    mod.lookup[4](out, shared, HITS=shared)  # idx read through the parameter, written through HITS
    np.testing.assert_array_equal(shared.numpy(), [1, 2, 3, 4])
    np.testing.assert_array_equal(out.numpy(), np.array([1, 2, 3, 4]) * 2.0)


def test_a_set_beyond_the_device_limit_is_a_device_error(load):
    limit = lg.device().limits["maxBoundDescriptorSets"]
    mod = load(HEADER + f"""
# legionella: binding set={limit} binding=0
FAR = Buffer[f32]


# legionella: kernel
def far(a: Buffer[f32]):
    a[0] = FAR[0]
""")
    with pytest.raises(lg.DeviceError, match=f"maxBoundDescriptorSets.*below {limit}"):
        mod.far[1](lg.zeros(1), FAR=lg.zeros(1))
