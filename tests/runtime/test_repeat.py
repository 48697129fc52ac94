"""A launch repeating the last one's arguments reuses its checked and packed form (launch.Repeat), and
only when the arguments are really the same."""
import numpy as np
import pytest

import legionella as lg
import legionella.runtime as rt
import kernels as K
from legionella.errors import DeviceLostError


@lg.kernel(workgroup=(64,))
def reciprocal(out: lg.Buffer[lg.f32], a: lg.f32):
    i = lg.global_id().x
    if i < len(out):
        out[i] = 1.0 / a


@lg.kernel(workgroup=(64,))
def fill(out: lg.Buffer[lg.i32], value: lg.i32):
    i = lg.global_id().x
    if i < len(out):
        out[i] = value


def launcher(kernel):
    return lg.device().launchers[kernel]


def test_a_repeated_launch_skips_the_binders_and_is_still_recorded():
    a = lg.zeros(64, dtype=np.int32)
    K.inc_into[64](a, a)  # aliased: a launch the aliased variant records
    b = lg.zeros(64, dtype=np.int32)
    K.inc_into[64](b, a)
    binders = launcher(K.inc_into).binders
    launcher(K.inc_into).binders = None  # a launch that still runs them fails
    try:
        launches = lg.stats()["launches"]
        for _ in range(3):
            K.inc_into[64](b, a)
        assert lg.stats()["launches"] == launches + 3
    finally:
        launcher(K.inc_into).binders = binders
    assert (b.numpy() == 2).all()


def test_zero_and_negative_zero_are_different_arguments():
    out = lg.zeros(64, dtype=np.float32)
    for a, expected in ((0.0, np.inf), (-0.0, -np.inf), (0.0, np.inf), (2.0, 0.5)):
        reciprocal[64](out, a)
        assert (out.numpy() == expected).all(), a


def test_equal_ints_repeat_and_other_values_do_not():
    out = lg.zeros(64, dtype=np.int32)
    big = 10**6
    for value in (big, int(str(big)), big + 1, -big, 1):  # int(str(...)): an equal, distinct object
        fill[64](out, value)
        assert out.numpy().tolist() == [value] * 64
    with pytest.raises(TypeError, match="parameter 'value'"):  # True == 1, but a bool is not an i32
        fill[64](out, True)


def test_a_list_changed_in_place_is_passed_again_with_its_new_values():
    out = lg.zeros(4)
    v = [1.0, 2.0]
    K.mixed_scalars[4](out, v, True, 2**33)
    assert out.numpy().tolist() == [21.0] * 4
    v[0] = 5.0
    K.mixed_scalars[4](out, v, True, 2**33)
    assert out.numpy().tolist() == [25.0] * 4


def test_numpy_scalars_repeat():
    out = lg.zeros(64, dtype=np.float32)
    half = np.float32(0.5)
    for _ in range(2):
        reciprocal[64](out, half)
        assert (out.numpy() == 2.0).all()
    reciprocal[64](out, np.float32(4.0))
    assert (out.numpy() == 0.25).all()


def test_a_new_array_where_a_freed_one_was_gets_its_own_shape():
    out = lg.zeros(10, dtype=np.int32)
    K.iota[512](out)
    lg.synchronize()
    del out  # its memory (and perhaps its id) may go to the next array
    out = lg.full(300, -1, dtype=np.int32)
    K.iota[512](out)
    assert out.numpy().tolist() == list(range(300))


def test_other_grids_are_not_repeats():
    out = lg.full(128, -1, dtype=np.int32)
    K.iota[64](out)
    K.iota[128](out)
    assert out.numpy().tolist() == list(range(128))


def test_a_repeat_on_a_lost_device_is_refused():
    device = rt.Device(0, lg.device().physical, lg.device().info).open()
    with rt.use_device(device):
        a = lg.zeros(8, dtype=np.int32)
        K.iota[8](a)
        device.mark_lost("simulated for the test")
        with pytest.raises(DeviceLostError, match="was lost.*simulated"):
            K.iota[8](a)
