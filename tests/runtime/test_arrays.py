"""lg.Array: creation, round trips, copy_from, memory accounting, out-of-memory, and the staging path."""
import dataclasses

import numpy as np
import pytest

import legionella as lg
import legionella.runtime as rt
import kernels as K


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.uint32, np.int64, np.uint8, np.float16])
def test_round_trip(dtype):
    host = (np.arange(1000) % 97).astype(dtype).reshape(10, 100)
    a = lg.array(host)
    assert (a.shape, a.dtype, a.size, a.nbytes, a.ndim, len(a)) == (host.shape, host.dtype, host.size,
                                                                   host.nbytes, 2, 10)
    np.testing.assert_array_equal(a.numpy(), host)
    np.testing.assert_array_equal(np.asarray(a), host)


def test_constructors():
    np.testing.assert_array_equal(lg.zeros((3, 4), dtype=np.int32).numpy(), np.zeros((3, 4), np.int32))
    np.testing.assert_array_equal(lg.full(5, 2.5, dtype=np.float32).numpy(), np.full(5, 2.5, np.float32))
    assert lg.zeros(4).dtype == np.float32
    e = lg.empty((2, 2), dtype=np.int64)
    assert (e.shape, e.dtype) == ((2, 2), np.int64)
    assert lg.array([1, 2, 3], dtype=np.int32).numpy().tolist() == [1, 2, 3]


def test_zero_size_array():
    a = lg.zeros(0, dtype=np.float32)
    assert a.numpy().shape == (0,)


def test_copy_from_converts_and_checks_the_shape():
    a = lg.zeros(4, dtype=np.float32)
    a.copy_from([1, 2, 3, 4])
    assert a.numpy().tolist() == [1.0, 2.0, 3.0, 4.0]
    with pytest.raises(ValueError, match=r"shape \(3,\) does not match the array's shape \(4,\)"):
        a.copy_from(np.zeros(3))


def test_copy_from_waits_for_launches_that_read_the_old_contents():
    k = K.inc_into
    a = lg.array(np.zeros(1024, np.int32))
    b = lg.zeros(1024, dtype=np.int32)
    k[1024](b, a)
    a.copy_from(np.full(1024, 50, np.int32))  # must not change what the launch above reads
    assert (b.numpy() == 1).all()
    k[1024](b, a)
    assert (b.numpy() == 51).all()


def test_bad_shapes_are_value_errors():
    with pytest.raises(ValueError, match="non-negative ints"):
        lg.zeros((2, -1))


def test_alloc_free_loop_returns_device_memory_to_its_start():
    device = lg.device()
    keep = lg.zeros(16)  # the allocator holds a block from here on
    lg.synchronize()
    start = device.memory_info()
    k = K.inc_into
    for i in range(200):
        a = lg.array(np.full(10_000 + i, i, np.int32))
        b = lg.zeros(10_000 + i, dtype=np.int32)
        big = lg.empty(70 << 20, dtype=np.uint8)  # larger than a block: a dedicated allocation each time
        k[a.size](b, a)
        del a, b, big
    lg.synchronize()
    assert device.memory_info() == start
    del keep


def test_out_of_memory_names_the_sizes():
    heap = lg.device().array_memory.heap_size
    with pytest.raises(lg.OutOfMemoryError, match=rf"cannot allocate {4 * heap:,} bytes .* of the {heap:,}"):
        lg.empty(heap, dtype=np.float32)


def test_suballocation_packs_small_arrays_into_one_block():
    device = lg.device()
    lg.synchronize()
    before = device.memory_info()["allocated"]
    arrays = [lg.zeros(100, dtype=np.float32) for _ in range(100)]
    assert device.memory_info()["allocated"] - before <= 64 << 20
    offsets = {(id(a.allocation.block), a.allocation.offset) for a in arrays}
    assert len(offsets) == 100
    assert all(a.allocation.offset % device.limits["minStorageBufferOffsetAlignment"] == 0 for a in arrays)


def test_device_local_memory_with_staging_like_a_discrete_gpu():
    physical, info = lg.device().physical, lg.device().info
    discrete_like = rt.Device(0, physical, info, host_visible=False).open()
    with lg.use_device(discrete_like):
        host = np.arange(5000, dtype=np.int32)
        a = lg.array(host)
        assert a.allocation.block.mapped is None  # device-local: only reachable through staging copies
        b = lg.zeros(5000, dtype=np.int32)
        k = K.inc_into
        k[5000](b, a)
        a.copy_from(host * 2)  # ordered after the launch that reads a
        k[5000](a, a)
        np.testing.assert_array_equal(b.numpy(), host + 1)
        np.testing.assert_array_equal(a.numpy(), host * 2 + 1)
        del a, b
        discrete_like.synchronize()
        assert discrete_like.staging_memory.used == 0


def test_memory_type_choice_on_a_discrete_gpu_layout():
    """A typical discrete GPU: VRAM, two system-memory types, and the small device-local BAR window."""
    from legionella.runtime import memory
    local, visible, coherent, cached = memory.DEVICE_LOCAL, memory.HOST_VISIBLE, memory.HOST_COHERENT, \
        memory.HOST_CACHED
    info = dataclasses.replace(lg.device().info,
                               memory_types=((local, 0), (visible | coherent, 1), (visible | coherent | cached, 1),
                                             (local | visible | coherent, 2)),
                               memory_heaps=((80 << 30, 1), (64 << 30, 0), (256 << 20, 1)))
    assert memory.choose_memory_type(info, host_visible=False) == 0  # arrays in VRAM
    assert memory.choose_memory_type(info, host_visible=True, staging=True) == 2  # cached system memory
    assert memory.choose_memory_type(info, host_visible=True) == 3  # shared memory prefers device-local


def test_descriptor_sets_of_freed_blocks_are_not_reused():
    """Dedicated blocks come and go; the driver may give a new VkBuffer the old handle's value, so the
    descriptor sets cached for the old buffer must be forgotten with it."""
    n = (70 << 20) // 4  # larger than a block: each array gets (and frees) its own VkBuffer
    for i in range(6):
        out = lg.full(n, -1, dtype=np.int32)
        K.iota[64](out)
        head = out.numpy()[:128]
        assert head[:64].tolist() == list(range(64)) and (head[64:] == -1).all()
        del out
        lg.synchronize()
    device = lg.device()
    device.memory_info()  # acts on the releases queued by del
    live = {block.buffer for block in device.array_memory.blocks}
    for layout in device.layouts.values():
        assert all(r[0] in live for ranges in layout.sets for r in ranges)


def test_arrays_are_aligned_for_uniform_and_storage_binding():
    """Any array may be bound as a uniform buffer: its offset honours minUniformBufferOffsetAlignment too
    (64 on NVIDIA, where this failed; forced to 256 here)."""
    info = lg.device().info
    limits = dict(info.limits, minUniformBufferOffsetAlignment=256)
    device = rt.Device(0, lg.device().physical, dataclasses.replace(info, limits=limits)).open()
    with lg.use_device(device):
        arrays = [lg.zeros(n, dtype=np.float32) for n in (1, 3, 17, 100)]
        assert all(a.binding[1] % 256 == 0 for a in arrays)


@pytest.mark.parametrize("host_visible", [True, False], ids=["host-visible", "device-local"])
@pytest.mark.parametrize("dtype, value", [(np.float32, -0.0), (np.int8, -3), (np.uint16, 65535), (np.float64, 1.5),
                                          (np.int64, -2**40)])
def test_full_and_zeros_fill_on_the_device_side(host_visible, dtype, value, monkeypatch):
    from legionella.runtime import vkdevice
    monkeypatch.setattr(vkdevice, "FILL_CHUNK", 40)  # several chunks, the last one partial
    device = rt.Device(0, lg.device().physical, lg.device().info, host_visible=host_visible).open()
    for shape in (0, 7, (3, 11)):
        full = lg.full(shape, value, dtype=dtype, device=device)
        np.testing.assert_array_equal(full.numpy(), np.full(shape, value, dtype=dtype))
        assert np.signbit(full.numpy()).tolist() == np.signbit(np.full(shape, value, dtype=dtype)).tolist()
        np.testing.assert_array_equal(lg.zeros(shape, dtype=dtype, device=device).numpy(), np.zeros(shape, dtype))


def test_full_takes_numpys_dtype_and_broadcasts_arrays():
    assert lg.full(3, 7).dtype == np.full(3, 7).dtype and lg.full(3, 7.0).dtype == np.float64
    np.testing.assert_array_equal(lg.full((2, 2), [1, 2]).numpy(), [[1, 2], [1, 2]])


def test_device_argument_takes_an_index_a_name_or_a_device():
    current = lg.device()
    for spec in (current.index, current.name[:5], current):
        assert lg.zeros(2, device=spec).device is current
    with pytest.raises(lg.DeviceError, match="device=: device index 99 is out of range"):
        lg.zeros(2, device=99)


def test_an_array_too_large_for_any_memory_is_out_of_memory_with_its_exact_size():
    for make in (lg.empty, lg.zeros):
        with pytest.raises(lg.OutOfMemoryError, match=f"{2**80 * 4:,} bytes"):
            make((2**40, 2**40), dtype=np.float32)


def test_numpy_copy_false_is_refused_and_asarray_copies():
    a = lg.full(3, 1.0)
    with pytest.raises(ValueError, match="always a copy"):
        np.array(a, copy=False)
    assert np.asarray(a).tolist() == [1.0, 1.0, 1.0]


def test_a_zero_dimensional_array_keeps_its_shape():
    a = lg.array(np.float32(3))
    assert (a.shape, a.size, a.ndim) == ((), 1, 0)
    a.copy_from(5)
    assert a.numpy().shape == () and a.numpy() == 5
    with pytest.raises(TypeError, match="0-D array"):
        K.iota[1](lg.array(np.int32(1)))
