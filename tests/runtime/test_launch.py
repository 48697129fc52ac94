"""Launches: results, argument checking, dependency tracking, grid splitting, threads, limits, failures."""
import math
import threading

import numpy as np
import pytest

import legionella as lg
import legionella.runtime as rt
import kernels as K
from legionella.errors import DeviceError, DeviceLostError


def test_axpy_result():
    k = K.axpy
    x = lg.array(np.arange(1000, dtype=np.float32))
    y = lg.full(1000, 1.0, dtype=np.float32)
    k[1000](y, x, 2.0)
    np.testing.assert_array_equal(y.numpy(), 2.0 * np.arange(1000, dtype=np.float32) + 1)


def test_launch_is_asynchronous_until_a_sync_point():
    k = K.inc_into
    a = lg.zeros(64, dtype=np.int32)
    b = lg.zeros(64, dtype=np.int32)
    submits = lg.stats()["submits"]
    k[64](b, a)
    assert lg.stats()["submits"] == submits  # recorded, not submitted
    lg.synchronize()
    assert lg.stats()["submits"] == submits + 1
    assert (b.numpy() == 1).all()


def test_ten_thousand_alternating_launches_track_dependencies():
    k = K.inc_into
    n = 4096
    a = lg.zeros(n, dtype=np.int32)
    b = lg.zeros(n, dtype=np.int32)
    for _ in range(5000):
        k[n](b, a)  # b = a + 1: reads what the previous launch wrote
        k[n](a, b)  # a = b + 1: overwrites what the previous launch read
    assert (a.numpy() == 10000).all()
    assert (b.numpy() == 9999).all()


def test_launches_from_four_threads():
    k = K.inc_into
    errors = []

    def work(seed):
        try:
            a = lg.array(np.full(256, seed, np.int32))
            b = lg.zeros(256, dtype=np.int32)
            for _ in range(100):
                k[256](b, a)
                k[256](a, b)
            assert (a.numpy() == seed + 200).all()
        except Exception as e:  # reported to the main thread below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(s * 1000,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_grid_beyond_max_workgroup_count_is_split_with_the_right_global_ids():
    limit = lg.device().limits["maxComputeWorkGroupCount"][0]
    if limit > 1 << 20:
        pytest.skip(f"maxComputeWorkGroupCount.x is {limit}: too many to exceed here (the y test covers splitting)")
    elements = K.iota.compile(lg.device().target).elements_per_invocation  # 4 when vectorized
    n = limit * 64 * elements + 1000
    out = lg.full(n, -1, dtype=np.int32)
    dispatches = lg.stats()["dispatches"]
    K.iota[n](out)
    np.testing.assert_array_equal(out.numpy(), np.arange(n, dtype=np.int32))
    assert lg.stats()["dispatches"] - dispatches == 2


def test_two_dimensional_grid_split_along_y_keeps_global_ids():
    rows = lg.device().limits["maxComputeWorkGroupCount"][1] * 8 + 5  # workgroup (8, 8): > the limit in y
    out = lg.full((3, rows), -1, dtype=np.int32)
    K.index_2d[3, rows](out)
    x, y = np.meshgrid(np.arange(3), np.arange(rows), indexing="ij")
    np.testing.assert_array_equal(out.numpy(), x * 1000 + y)


def test_grid_is_rounded_up_to_whole_workgroups_and_bounds_use_the_shape():
    out = lg.full(100, -1, dtype=np.int32)
    K.iota[70](out)  # 70 invocations -> 2 workgroups of 64, guarded by len(out)
    np.testing.assert_array_equal(out.numpy(), np.arange(100, dtype=np.int32))


def test_vec4_buffer_takes_float32_arrays_of_shape_n_by_4():
    host = np.arange(40, dtype=np.float32).reshape(10, 4)
    a = lg.array(host)
    K.double_vec4[10](a)
    np.testing.assert_array_equal(a.numpy(), host * 2)


def test_vec4_buffer_refuses_the_wrong_width():
    with pytest.raises(TypeError, match="parameter 'a'.*vec4"):
        K.double_vec4[10](lg.zeros((10, 3), dtype=np.float32))


@pytest.mark.parametrize("args, message", [
    ((lambda: lg.zeros(8, dtype=np.int32), lambda: lg.zeros(8, dtype=np.float32)),
     r"parameter 'src' \(Buffer\[i32\]\).*float32"),
    ((lambda: lg.zeros((2, 4), dtype=np.int32), lambda: lg.zeros(8, dtype=np.int32)),
     r"parameter 'dst' \(Buffer\[i32\]\).*2-D array.*expects 1-D"),
    ((lambda: np.zeros(8, np.int32), lambda: lg.zeros(8, dtype=np.int32)),
     r"parameter 'dst'.*got a ndarray \(copy it to the device with lg.array\(x\)\)"),
    ((lambda: 3, lambda: lg.zeros(8, dtype=np.int32)), r"parameter 'dst'.*got a int"),
])
def test_wrong_arguments_are_type_errors_naming_the_parameter(args, message):
    k = K.inc_into
    before = lg.stats()["launches"]
    with pytest.raises(TypeError, match=message):
        k[8](*(make() for make in args))
    assert lg.stats()["launches"] == before  # nothing was enqueued


def test_scalar_arguments_are_checked():
    k = K.axpy
    x, y = lg.zeros(8), lg.zeros(8)
    with pytest.raises(TypeError, match=r"parameter 'a' \(f32\).*'two'"):
        k[8](y, x, "two")
    with pytest.raises(TypeError, match="takes 3 arguments"):
        k[8](y, x)
    k[8](y, x, np.float32(1.0))  # numpy scalars and ints are fine for f32
    k[8](y, x, 3)
    for too_big in (1e40, -1e300, np.float64(1e39)):  # struct.pack raised a bare OverflowError
        with pytest.raises(ValueError, match=r"parameter 'a' \(f32\): .* is beyond f32's range"):
            k[8](y, x, too_big)
        with pytest.raises(ValueError, match=r"parameter 'a' \(f32\): .* is beyond f32's range"):
            k.emulate[8](np.zeros(8, np.float32), np.zeros(8, np.float32), too_big)
    k[8](y, x, math.inf)
    assert np.isnan(y.numpy()).all()  # inf * 0 + ..., as numpy gives


def test_integer_scalar_out_of_range_is_refused():
    with pytest.raises(ValueError, match=r"parameter 'steps' \(u32\).*does not fit"):
        K.spin[1](lg.zeros(1, dtype=np.uint32), -1)


def test_bad_grids_are_refused():
    k = K.iota
    with pytest.raises(ValueError, match="1 to 3 dimensions"):
        k[1, 2, 3, 4]
    with pytest.raises(TypeError, match="int or a tuple of ints"):
        k[2.5]
    with pytest.raises(ValueError, match="global_id\\(\\) is i32"):  # it would wrap negative past 2**31 - 1
        k[2**31](lg.zeros(4, dtype=np.int32))


def test_array_larger_than_max_storage_buffer_range_is_refused_with_both_sizes():
    limit = lg.device().limits["maxStorageBufferRange"]
    big = lg.empty(limit // 4 + 1, dtype=np.int32)
    with pytest.raises(DeviceError, match=f"{big.nbytes:,} bytes.*{limit:,} bytes"):
        K.iota[64](big)


def test_an_array_deleted_under_a_pending_launch_stays_alive_until_it_completes():
    k = K.inc_into
    device = lg.device()
    lg.synchronize()
    before = device.memory_info()["used"]
    a = lg.array(np.arange(1 << 16, dtype=np.int32))
    b = lg.zeros(1 << 16, dtype=np.int32)
    k[1 << 16](b, a)
    del a  # the launch still reads it
    c = lg.zeros(1 << 16, dtype=np.int32)  # must not reuse a's memory while the launch is pending
    k[1 << 16](c, b)
    np.testing.assert_array_equal(c.numpy(), np.arange(1 << 16) + 2)
    del b, c
    lg.synchronize()
    assert device.memory_info()["used"] == before


def test_a_wait_longer_than_the_timeout_raises_timeout_error(monkeypatch):
    # lavapipe: 10^9 LCG steps; a GPU gets 1000 times more. Far more than a millisecond either way.
    out = lg.zeros(1 << 14 if lg.device().info.device_type == 4 else 1 << 24, dtype=np.uint32)
    K.spin[out.size](out, 65535)  # lavapipe stops loops after 65,535 iterations: stay at that
    monkeypatch.setenv("LEGIONELLA_TIMEOUT", "0.001")
    with pytest.raises(TimeoutError, match="LEGIONELLA_TIMEOUT"):
        lg.synchronize()
    monkeypatch.setenv("LEGIONELLA_TIMEOUT", "120")
    lg.synchronize()  # the work was not lost: a later wait sees it finish
    assert (out.numpy() == lcg(65535)).all()


def lcg(steps, a=1664525, c=1013904223):
    """The spin kernel's result: x -> a*x + c applied ``steps`` times to 1 (mod 2^32), by squaring."""
    total, power = (1, 0), (a, c)  # affine maps (multiplier, increment); they commute
    while steps:
        if steps & 1:
            total = (total[0] * power[0] % 2**32, (power[0] * total[1] + power[1]) % 2**32)
        power = (power[0] ** 2 % 2**32, (power[0] * power[1] + power[1]) % 2**32)
        steps >>= 1
    return (total[0] + total[1]) % 2**32


def test_a_lost_device_refuses_later_launches():
    info = lg.device().info
    device = rt.Device(0, lg.device().physical, info).open()
    with rt.use_device(device):
        a = lg.zeros(8, dtype=np.int32)
        device.mark_lost("simulated for the test")
        with pytest.raises(DeviceLostError, match="was lost.*simulated"):
            K.iota[8](a)
        with pytest.raises(DeviceLostError):
            lg.synchronize()


def test_waits_that_poll_the_fence_first_see_the_results():
    """GPUs poll the fence before blocking (stream.SPIN_S); exercise that path here too."""
    device = rt.Device(0, lg.device().physical, lg.device().info).open()
    device.stream.spin_s = 0.05
    with lg.use_device(device):
        a = lg.zeros(4096, dtype=np.int32)
        b = lg.zeros(4096, dtype=np.int32)
        for _ in range(20):
            K.inc_into[4096](b, a)
            K.inc_into[4096](a, b)
            lg.synchronize()
        assert (a.numpy() == 40).all()


def test_vector_bool_and_64_bit_scalars_travel_in_push_constants():
    out = lg.zeros(4)
    K.mixed_scalars[4](out, lg.vec2(1.0, 2.0), True, 2**33 + 100)
    assert out.numpy().tolist() == [121.0] * 4
    K.mixed_scalars[4](out, (1, 2), False, -5)
    assert out.numpy().tolist() == [-1.0] * 4
    with pytest.raises(TypeError, match=r"parameter 'v' \(vec2\).*pass 2 numbers"):
        K.mixed_scalars[4](out, (1, 2, 3), True, 0)
    with pytest.raises(TypeError, match=r"parameter 'flag' \(bool\)"):
        K.mixed_scalars[4](out, (1, 2), 1, 0)


@pytest.mark.parametrize("host_visible", [True, False], ids=["host-visible", "device-local"])
def test_descriptor_set_cache_is_recycled_when_idle(monkeypatch, host_visible):
    """Both kinds of array memory, whatever this machine's device uses: host-visible (lavapipe, integrated
    GPUs) and device-local with staging copies (discrete GPUs), where an upload is recorded work too."""
    from legionella.runtime import pipeline
    monkeypatch.setattr(pipeline, "MAX_CACHED_SETS", 8)
    monkeypatch.setattr(pipeline, "SETS_PER_POOL", 4)
    device = rt.Device(0, lg.device().physical, lg.device().info, host_visible=host_visible).open()
    arrays = []
    with lg.use_device(device):
        for _ in range(3):
            fresh = [lg.zeros(64, dtype=np.int32) for _ in range(30)]  # kept alive: 90 distinct bindings
            lg.synchronize()
            # An upload recorded now (a staging copy on device-local memory) uses no descriptor set, so
            # it must not keep the cache from being recycled at the next launch.
            fresh[0].copy_from(np.zeros(64, dtype=np.int32))
            for a in fresh:
                K.iota[64](a)  # a new descriptor set per array; within a round the cache cannot be recycled
            lg.synchronize()
            arrays += fresh
        layout = device.launchers[K.iota].layout
        assert len(layout.sets) <= 30  # recycled when the next round's first launch found the device idle
        assert len(layout.pools) <= 30 // 4 + 1  # the pools were reset too, not just the dictionary
        assert all(a.numpy().tolist() == list(range(64)) for a in arrays)


def test_arrays_passed_again_after_others_get_their_own_shapes():
    """The binders skip the checks for the array they accepted last: the shape words must still be the
    array's own when arrays of other sizes come in between."""
    small, large = lg.zeros(10, dtype=np.int32), lg.zeros(300, dtype=np.int32)
    for out in (small, small, large, small, large, large):
        out.copy_from(np.full(out.size, -1, dtype=np.int32))
        K.iota[512](out)
        assert out.numpy().tolist() == list(range(out.size))
    with pytest.raises(TypeError, match="parameter 'out'"):
        K.iota[16](lg.zeros(4, dtype=np.float32))
    K.iota[16](small)  # after a refused argument, the last accepted array is still fine



@lg.kernel(workgroup=(64,))
def axpy_twice(y: lg.Buffer[lg.f32], x: lg.Buffer[lg.f32], a: lg.f32):
    """Same signature (so the same pipeline layout) as kernels.axpy: y += 2 a x."""
    i = lg.global_id().x
    if i < len(y):
        y[i] += 2.0 * a * x[i]


def test_repeated_push_constants_are_set_once_and_changed_ones_again():
    # One command buffer: the same scalars twice (pushed once), others, and a kernel sharing the layout.
    x = lg.array(np.ones(100, dtype=np.float32))
    y = lg.zeros(100, dtype=np.float32)
    scalars = (1.0, 1.0, 3.0, 3.0, 1.0)
    for a in scalars:
        K.axpy[100](y, x, a)
        axpy_twice[100](y, x, a)
    K.axpy[100](y, x, 5.0)
    np.testing.assert_array_equal(y.numpy(), np.full(100, 3 * sum(scalars) + 5.0, np.float32))


@pytest.mark.parametrize("workgroup", [(2048,), (1024, 2), (1, 1, 100000)])
def test_a_workgroup_beyond_the_devices_limits_is_refused_naming_the_kernel(workgroup):
    @lg.kernel(workgroup=workgroup)
    def too_wide(out: lg.Buffer[lg.i32]):
        out[lg.global_id().x] = 1
    limits = lg.device().limits
    if math.prod(workgroup) <= limits["maxComputeWorkGroupInvocations"] and all(
            n <= m for n, m in zip(workgroup, limits["maxComputeWorkGroupSize"])):
        pytest.skip(f"{lg.device().name} allows workgroup {workgroup}")
    with pytest.raises(lg.CompileError, match=r"test_launch.py:\d+: kernel 'too_wide' has workgroup .*choose a smaller"):
        too_wide[16](lg.zeros(16, dtype=np.int32))
