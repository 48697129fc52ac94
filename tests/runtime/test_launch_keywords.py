"""Kernel parameters passed by keyword on the device, as in a Python call and in ``kernel.emulate``; the
other launch keywords bind ``# legionella: binding`` globals, and a keyword that names neither is refused."""
import numpy as np
import pytest

import legionella as lg

import kernels as K

MODULE = """
from legionella.lang import Buffer, f32, global_id

# legionella: binding set=1 binding=0
TABLE = Buffer[f32]


# legionella: kernel
def lookup(out: Buffer[f32], scale: f32):
    i = global_id().x
    if i < len(out):
        out[i] = TABLE[i % len(TABLE)] * scale
"""


@pytest.fixture
def with_binding(load_marked):
    """A module whose kernel ``lookup(out, scale)`` reads the binding global TABLE, imported with the hook."""
    return load_marked(MODULE)


@pytest.mark.parametrize("call", [
    lambda y, x: K.axpy[6](y=y, x=x, a=2.0),
    lambda y, x: K.axpy[6](a=2.0, x=x, y=y),
    lambda y, x: K.axpy[6](y, a=2.0, x=x),
    lambda y, x: K.axpy[6](y, x, a=2.0),
])
def test_parameters_by_keyword_launch_like_positions(call):
    x = np.arange(6, dtype=np.float32)
    y = lg.array(np.ones(6, np.float32))
    call(y, lg.array(x))
    expected = np.ones(6, np.float32)
    K.axpy.emulate[6](y=expected, x=x, a=2.0)
    np.testing.assert_array_equal(y.numpy(), expected)
    assert expected.tolist() == (2 * x + 1).tolist()


def test_a_keyword_launch_repeated_is_the_same_launch():
    out = lg.zeros(4, dtype=np.int32)
    for _ in range(3):
        K.iota[4](out=out)
    assert out.numpy().tolist() == [0, 1, 2, 3]


def test_keywords_name_parameters_and_bindings_together(with_binding):
    table = lg.array(np.arange(4, dtype=np.float32))
    out = lg.zeros(6)
    with_binding.lookup[6](scale=3.0, TABLE=table, out=out)
    assert out.numpy().tolist() == [0.0, 3.0, 6.0, 9.0, 0.0, 3.0]
    with_binding.TABLE.bind(table)
    with_binding.lookup[6](out, scale=-1.0)
    assert out.numpy().tolist() == [0.0, -1.0, -2.0, -3.0, 0.0, -1.0]


@pytest.mark.parametrize("call, message", [
    (lambda y, x: K.axpy[6](y, x, b=1.0),
     r"^kernel 'axpy' has no parameter or binding named b; its parameters: y, x, a$"),
    (lambda y, x: K.axpy[6](y, x, 1.0, y=y),
     r"^kernel 'axpy' got parameter 'y' twice, by position and by keyword$"),
    (lambda y, x: K.axpy[6](y, a=1.0),
     r"^kernel 'axpy' takes 3 arguments \(y, x, a\); missing x$"),
    (lambda y, x: K.axpy[6](a=1.0),
     r"^kernel 'axpy' takes 3 arguments \(y, x, a\); missing y, x$"),
    (lambda y, x: K.axpy[6](y, x, 1.0, 2.0, a=1.0),
     r"^kernel 'axpy' takes 3 arguments \(y, x, a\), got 4$"),
    (lambda y, x: K.axpy[6](y=y, x=x, a=1.5j),
     r"^kernel 'axpy', parameter 'a' \(f32\): "),
])
def test_bad_keywords_are_type_errors_naming_them(call, message):
    y, x = lg.zeros(6), lg.zeros(6)
    with pytest.raises(TypeError, match=message):
        call(y, x)


def test_an_unknown_keyword_beside_bindings_names_both_lists(with_binding):
    with pytest.raises(TypeError, match=r"^kernel 'lookup' has no parameter or binding named outt, TABLES; its "
                                        r"parameters: out, scale; its bindings: TABLE$"):
        with_binding.lookup[6](outt=lg.zeros(6), TABLES=lg.zeros(4), scale=1.0)


@lg.kernel(workgroup=(4,))
def scaled(out: lg.Buffer[lg.f32], scale: lg.f32 = 2.0, offset: lg.f32 = 0.5):
    i = lg.global_id().x
    if i < len(out):
        out[i] = lg.f32(i) * scale + offset


@pytest.mark.parametrize("args, named, scale, offset", [
    ((), {}, 2.0, 0.5), ((3.0,), {}, 3.0, 0.5), ((), {"offset": 1.0}, 2.0, 1.0), ((3.0,), {"offset": 1.0}, 3.0, 1.0),
    ((), {"scale": -1.0}, -1.0, 0.5)], ids=["none", "scale", "offset", "both", "keyword-scale"])
def test_parameters_with_python_defaults_may_be_left_out(args, named, scale, offset):
    out = lg.zeros(4)
    host = np.zeros(4, np.float32)
    scaled[4](out, *args, **named)
    scaled.emulate[4](host, *args, **named)
    np.testing.assert_array_equal(out.numpy(), host)
    np.testing.assert_array_equal(host, np.arange(4, dtype=np.float32) * scale + offset)


def test_a_parameter_without_a_default_is_still_required():
    with pytest.raises(TypeError, match=r"takes 1 to 3 arguments \(out, scale, offset\), got 0"):
        scaled[4]()
    with pytest.raises(TypeError, match="missing out"):
        scaled[4](offset=1.0)
