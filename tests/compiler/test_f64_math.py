"""GLSL.std.450's transcendental instructions take 16- and 32-bit floats only: an f64 operand is a
CompileError saying where the f64 came from (compiler/glsl_precision.py), never invalid SPIR-V that
returns garbage; f64 functions GLSL does have (sqrt, floor, abs, fma...) compile and agree with emulate."""
import math

import numpy as np
import pytest

import legionella as lg
from legionella.compiler import Target
from legionella.lang import Buffer, f32, f64, global_id

from differential import run_both
from snippets import compile_snippet

HEADER = "import math\nfrom legionella.lang import *\n"
F64 = Target(float64=True)


@pytest.mark.parametrize("expression, name", [
    ("math.sin(i * 0.1)", "sin"),  # i32 * float literal: f64 under numpy's rules
    ("math.exp(a[i] / 3)", "exp"),  # int / int: f64
    ("math.atan2(f64(i), 1.0)", "atan2"),
    ("f64(a[i]) ** f64(i)", "'**' (pow)"),
])
def test_transcendental_functions_of_f64_are_compile_errors(expression, name, tmp_path):
    snippet = f"""
        def k(a: Buffer[i32], out: Buffer[f32]):
            i = global_id().x
            out[i] = {expression}
    """
    with pytest.raises(lg.CompileError) as info:
        compile_snippet(HEADER, snippet, tmp_path, F64)
    e = info.value
    assert f"{name} of an f64 value: GPUs have no f64 {name.split()[0]}" in e.message
    assert "write f32(i) * 0.1" in e.message
    assert (e.lineno, e.col) == (5, 14), str(e)


def test_float32_transcendentals_still_compile(tmp_path):
    compile_snippet(HEADER, """
        def k(a: Buffer[i32], out: Buffer[f32]):
            i = global_id().x
            out[i] = math.sin(f32(i) * 0.1) + f32(a[i]) ** 0.5 + math.exp(f32(a[i]) / 3.0)
    """, tmp_path, F64)


@lg.kernel(workgroup=(8,))
def f64_functions_glsl_has(x: Buffer[f64], out: Buffer[f64]):
    i = global_id().x
    if i < len(x):
        out[i] = math.sqrt(abs(x[i])) + math.floor(x[i]) + lg.fma(x[i], x[i], 1.0) + min(x[i], 0.5)


def test_f64_functions_glsl_has_agree_with_emulate():
    if not lg.device().info.features.get("shaderFloat64"):
        pytest.skip("the device has no f64")
    x = np.linspace(-3, 3, 16)
    out, = run_both(f64_functions_glsl_has, 16, x, np.zeros(16), rtol=1e-12, atol=1e-12)[1:]
    np.testing.assert_allclose(out, np.sqrt(np.abs(x)) + np.floor(x) + x * x + 1 + np.minimum(x, 0.5))
