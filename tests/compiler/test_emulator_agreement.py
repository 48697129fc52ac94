"""kernel.emulate agrees with the device where it used to raise or refuse: literal negative indices,
IEEE results of math.* (inf and NaN instead of Python's exceptions), and Buffer[vec3] refused alike."""
import math
from math import sqrt

import numpy as np
import pytest

import legionella as lg
from legionella.errors import CompileError
from legionella.lang import Buffer, f32, global_id, i32, local_id, mat3, shared, vec3, vec4

import snippets
from differential import run_both


@lg.kernel(workgroup=(4,))
def from_the_end(a: Buffer[f32], grid: Buffer[i32, 2], out: Buffer[f32]):
    tile = shared(f32, 4)
    tile[local_id().x] = f32(local_id().x) * 10.0
    if global_id().x == 0:
        tile[-1] = 7.0
        out[0] = a[-1]
        out[1] = a[-5]
        out[2] = f32(grid[-1, 0] + grid[0, -1] + grid[-2, -3])
        out[3] = tile[-1] + tile[-4]
        a[-2] = 100.0


def test_a_literal_negative_index_counts_from_the_end():
    a = np.arange(5, dtype=np.float32)
    grid = np.arange(12, dtype=np.int32).reshape(3, 4)
    a_after, _, out = run_both(from_the_end, 4, a, grid, np.zeros(4, np.float32))
    assert out.tolist() == [4.0, 0.0, 8 + 3 + 5, 7.0]
    assert a_after[3] == 100.0


@lg.kernel(workgroup=(4,))
def runtime_negative(a: Buffer[f32]):
    k = global_id().x - 1
    a[0] = a[k]


def test_a_negative_index_computed_at_run_time_is_still_an_error_in_the_emulator():
    with pytest.raises(IndexError, match=r"index -1 is out of range for buffer 'a' of shape \(4,\)"):
        runtime_negative.emulate[4](np.zeros(4, np.float32))


@lg.kernel(workgroup=(4,))
def edge_math(x: Buffer[f32], out: Buffer[f32, 2]):
    i = global_id().x
    if i < len(x):
        v = x[i]
        out[i, 0] = math.log(v)
        out[i, 1] = math.sqrt(v)
        out[i, 2] = math.exp(v)
        out[i, 3] = math.pow(v, 0.5)
        out[i, 4] = math.acos(v)
        out[i, 5] = math.atanh(v)
        out[i, 6] = math.fmod(1.0, v)
        out[i, 7] = math.log2(v) + math.sin(v) * 0.0


def test_math_gives_the_devices_ieee_results_in_the_emulator():
    """Python's math raises for all of these; the device and the emulator give -inf, nan or inf in the same
    places (finite values within lavapipe's acos error, up to 3.5e-4 near 1)."""
    x = np.array([0.0, -1.0, 1000.0, 1.0, 4.0, -0.0, 2.0, 0.25], np.float32)
    (_, out) = run_both(edge_math, len(x), x, np.zeros((len(x), 8), np.float32), rtol=1e-3, atol=1e-3)
    assert out[0, 0] == -np.inf and np.isnan(out[1, 1]) and out[2, 2] == np.inf and out[3, 5] == np.inf


@lg.kernel(workgroup=(4,))
def typed_math(a: Buffer[i32], out: Buffer[f32]):
    i = global_id().x
    if i < len(a):
        s = sqrt(a[i])            # an i32 operand is computed in f32, as on the device
        out[i] = s * 3.0 + math.pi


def test_math_functions_imported_by_name_and_integer_operands():
    a = np.array([0, 1, 2, 9], np.int32)
    run_both(typed_math, 4, a, np.zeros(4, np.float32))
    emulated = np.zeros(4, np.float32)
    typed_math.emulate[4](a, emulated)
    assert emulated.dtype == np.float32


def test_the_emulated_math_keeps_result_types():
    from legionella.compiler.emulated_math import EMULATED_MATH, IEEE_MATH
    from legionella.lang import ivec2, vec2
    with np.errstate(divide="ignore"):
        assert IEEE_MATH[math.log](np.float32(0.0)) == -np.inf
    assert type(IEEE_MATH[math.sin](np.float32(1.0))) is np.float32
    assert type(IEEE_MATH[math.sqrt](np.int32(4))) is np.float32
    assert type(IEEE_MATH[math.sqrt](np.float64(4))) is np.float64
    assert IEEE_MATH[math.sqrt](ivec2(4, 9)) == vec2(2.0, 3.0)
    assert type(IEEE_MATH[math.exp](0.5)) is float  # literals fold in Python, as the compiler folds them
    with pytest.raises(ValueError):
        IEEE_MATH[math.log](0.0)
    assert EMULATED_MATH.pi == math.pi and EMULATED_MATH.floor is math.floor


# ---- buffers whose elements std430 pads: refused by the compiler and by kernel.emulate alike -------------

PADDED = [("vec3", "float32", "vec4"), ("ivec3", "int32", "ivec4"), ("uvec3", "uint32", "uvec4")]


@pytest.mark.parametrize("element, scalar, suggested", PADDED)
def test_a_buffer_of_3_vectors_is_refused_where_the_parameter_is(element, scalar, suggested, tmp_path):
    snippet = f"""
        def k(out: Buffer[f32], a: Buffer[{element}]):
            out[0] = f32(a[0].x)
        """
    with pytest.raises(CompileError) as info:
        snippets.compile_snippet("from legionella.lang import *\n", snippet, tmp_path)
    err = info.value
    assert (err.lineno, err.col) == (2, 25)
    message = str(err)
    assert f"Buffer[{element}] is not supported: std430 gives each {element} element 16 bytes" in message
    assert f"no {scalar} array of shape (..., 3) matches it; use Buffer[{suggested}]" in message
    assert "a @dataclass struct with the" in message and "^" in message and "in kernel 'k'" in message


@lg.kernel
def vec3_buffer(out: Buffer[f32], a: Buffer[vec3]):
    out[0] = a[0].x


@lg.kernel
def mat3_buffer(a: Buffer[mat3]):
    a[0] = a[0] * 2.0


@pytest.mark.parametrize("kernel, array", [(vec3_buffer, np.zeros((4, 3), np.float32)),
                                           (mat3_buffer, np.zeros((4, 3, 3), np.float32))])
def test_emulate_refuses_padded_elements_with_the_compilers_error(kernel, array):
    with pytest.raises(CompileError) as compiled:
        kernel.compile()
    args = (np.zeros(1, np.float32), array) if kernel is vec3_buffer else (array,)
    with pytest.raises(CompileError) as emulated:
        kernel.emulate[1](*args)
    assert str(emulated.value) == str(compiled.value)
    assert (emulated.value.lineno, emulated.value.col) == (compiled.value.lineno, compiled.value.col)
