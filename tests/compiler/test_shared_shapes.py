"""``shared(dtype, shape)`` takes its shape from literals or module constants, a module-level tuple
constant included (``TILE = (4, 8)``, also as ``mod.NAME``), on the device and in ``kernel.emulate``
alike; a tuple constant that is not a valid shape is a CompileError at the shape."""
import numpy as np
import pytest

import legionella as lg
from legionella.lang import Buffer, barrier, f32, local_id, shared, u32, vec2
import shapes_mod
import snippets
from differential import run_both

TILE = (4, 8)
CUBE = (2, 2, 2)


@lg.kernel(workgroup=(8,))
def transpose_through_tile(a: Buffer[f32], o: Buffer[f32]):
    t = shared(f32, TILE)
    l = local_id().x
    for r in range(TILE[0]):
        t[r, l] = a[r * 8 + l]
    barrier()
    for r in range(t.shape[0]):
        o[l * 4 + r] = t[r, l]
    o[32 + l] = f32(len(t) * 100 + t.shape[1])


@lg.kernel(workgroup=(8,))
def cube_and_module_tuple(o: Buffer[u32], v: Buffer[vec2]):
    c = shared(u32, CUBE)
    w = shared(vec2, shapes_mod.PAIR_SHAPE)
    l = local_id().x
    c[l // 4, (l // 2) % 2, l % 2] = u32(l * 3)
    w[l % 2, l // 2] = vec2(f32(l), 1.0)
    barrier()
    o[l] = c[(7 - l) // 4, ((7 - l) // 2) % 2, (7 - l) % 2]
    v[l] = w[l % 2, l // 2] * 2.0


def test_a_module_tuple_constant_gives_the_shape():
    a = np.arange(32, dtype=np.float32)
    out = run_both(transpose_through_tile, 8, a, np.zeros(40, np.float32))[1]
    np.testing.assert_array_equal(out[:32], a.reshape(4, 8).T.ravel())
    assert (out[32:] == 408).all()
    assert transpose_through_tile.compile().shared_memory == 4 * 8 * 4


def test_a_three_dimensional_tuple_and_one_reached_through_a_module():
    o, v = run_both(cube_and_module_tuple, 8, np.zeros(8, np.uint32), np.zeros((8, 2), np.float32))
    assert o.tolist() == [3 * (7 - l) for l in range(8)]
    assert v[:, 0].tolist() == [2.0 * l for l in range(8)]


BAD_HEADER = ("from legionella.lang import *\nZERO = (4, 0)\nRANK4 = (2, 2, 2, 2)\nHALF = (4, 2.5)\n"
              "NAMES = ('a', 'b')\n")


@pytest.mark.parametrize("shape, message", [
    ("ZERO", "the shape of shared() must be positive integers known at compile time"),
    ("RANK4", "a shared array has 1 to 3 dimensions"),
    ("HALF", "the shape of shared() must be positive integers"),
    ("NAMES", "the shape of shared() must be positive integers"),
])
def test_a_tuple_constant_that_is_no_shape_is_refused_at_the_shape(shape, message, tmp_path):
    snippet = f"""
        def k(a: Buffer[f32]):
            t = shared(f32, {shape})
            a[0] = 1.0
        """
    with pytest.raises(lg.CompileError) as info:
        snippets.compile_snippet(BAD_HEADER, snippet, tmp_path)
    e = info.value
    assert message in e.message
    assert (e.lineno, e.col) == (BAD_HEADER.count("\n") + 2, 21)
