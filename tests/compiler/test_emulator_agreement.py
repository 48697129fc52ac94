"""kernel.emulate agrees with the device where it used to raise or refuse: literal negative indices,
IEEE results of math.* (inf and NaN instead of Python's exceptions), and Buffer[vec3] refused alike."""
import math

import numpy as np
import pytest

import legionella as lg
from legionella.lang import Buffer, f32, global_id, i32, local_id, shared, vec4
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
