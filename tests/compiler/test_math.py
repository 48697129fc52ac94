"""Differential tests of math.*, abs/min/max/round and the GLSL.std.450 mapping.

Tolerance: GLSL.std.450 allows a few ulp (and more for exp/log/pow near their edges), while the
emulator computes math.* in float64; 1e-5 relative plus 1e-5 absolute covers lavapipe's results.
"""
import math

import numpy as np

import legionella as lg
from legionella.lang import Buffer, f32, global_id, i32
from differential import run_both

N = 48


@lg.kernel
def functions(a: Buffer[f32], out: Buffer[f32, 2], iout: Buffer[i32, 2]):
    i = global_id().x
    if i < len(a):
        x = a[i]
        ax = abs(x) + 0.1
        out[i, 0] = math.sqrt(ax)
        out[i, 1] = math.sin(x) + math.cos(x)
        out[i, 2] = math.exp(x * 0.5)
        out[i, 3] = math.log(ax)
        out[i, 4] = math.atan2(x, 1.5)
        out[i, 5] = math.pow(ax, 1.5)
        out[i, 6] = min(x, 0.5) + max(x, -0.5, 0.25)
        out[i, 7] = math.tanh(x)
        out[i, 8] = math.fabs(x) + math.fmod(x, 1.5)
        out[i, 9] = math.log2(ax) + math.radians(x)
        iout[i, 0] = math.floor(x)
        iout[i, 1] = math.ceil(x)
        iout[i, 2] = i32(x)
        iout[i, 3] = round(x)
        iout[i, 4] = abs(i32(x * 10.0)) + min(i, 5) + max(3, i, 4)
        iout[i, 5] = i32(math.isnan(x)) + i32(math.isinf(x))


def test_math_functions_map_to_glsl():
    a = np.linspace(-3.3, 3.3, N).astype(np.float32)
    run_both(functions, N, a, np.zeros((N, 10), np.float32), np.zeros((N, 6), np.int32), rtol=1e-5, atol=1e-5)
