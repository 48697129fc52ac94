"""The demo's pieces, in process: PNG encoding, the colour map, timing helpers, the numpy reference."""
import dataclasses

import numpy as np
import pytest

import legionella as lg
import legionella.runtime as rt
from legionella.demo import measure, showcases
from legionella.demo.png import colormap, decode_png_size, encode_png
from legionella.importer import install


@pytest.mark.parametrize("shape", [(3, 5), (7, 2, 3), (1, 1)])
def test_png_header_round_trip(shape):
    assert decode_png_size(encode_png(np.zeros(shape, np.uint8))) == (shape[1], shape[0])


def test_png_rejects_other_shapes_and_damaged_headers():
    with pytest.raises(ValueError, match="expected"):
        encode_png(np.zeros((2, 2, 4), np.uint8))
    data = bytearray(encode_png(np.zeros((2, 2), np.uint8)))
    data[18] ^= 1  # inside IHDR: the CRC no longer matches
    with pytest.raises(ValueError, match="corrupt"):
        decode_png_size(bytes(data))
    with pytest.raises(ValueError, match="not a PNG"):
        decode_png_size(b"GIF89a" + bytes(30))


def test_colormap_is_a_ramp_from_dark_to_light():
    rgb = colormap(np.linspace(0, 1, 9)).astype(int)
    assert rgb.shape == (9, 3)
    brightness = rgb.sum(axis=1)
    assert brightness[0] < 100 and brightness[-1] > 700 and (np.diff(brightness) > 0).all()
    assert (colormap([-5.0, 5.0]) == colormap([0.0, 1.0])).all()  # clipped to [0, 1]


@pytest.mark.parametrize("seconds, text", [(2.5, "2.50 s"), (0.0413, "41.3 ms"), (2.1e-6, "2.1 us")])
def test_fmt_time(seconds, text):
    assert measure.fmt_time(seconds) == text


def test_fmt_rate():
    assert measure.fmt_rate(12e9, 2.0) == "6.0 GB/s"


def test_best_of_takes_the_shortest_run():
    durations = iter([0.02, 0.001, 0.01])

    def sleepy():
        import time
        time.sleep(next(durations))

    assert 0.001 <= measure.best_of(sleepy, 3) < 0.01


@pytest.mark.parametrize("device_type, sizes", [(4, "cpu"), (1, "gpu"), (2, "gpu"), (3, "gpu")])
def test_a_cpu_device_gets_the_cpu_sizes_and_a_gpu_the_gpu_sizes(device_type, sizes):
    real = lg.device()
    info = dataclasses.replace(real.info, device_type=device_type)  # VkPhysicalDeviceType: 4 CPU, 1-3 GPUs
    assert showcases.sizes_for(rt.Device(real.index, real.physical, info)) is showcases.SIZES[sizes]


def test_the_current_device_gets_the_sizes_of_its_type():
    """lavapipe (a CPU device) gets the CPU sizes; a GPU, such as a discrete NVIDIA one, the GPU sizes."""
    device = lg.device()
    expected = "cpu" if device.info.device_type == 4 else "gpu"
    if "llvmpipe" in device.name:
        assert expected == "cpu", device.info
    assert showcases.sizes_for(device) is showcases.SIZES[expected]


def test_mandelbrot_reference_equals_the_emulator():
    with install():
        from examples import mandelbrot as module
    width, height, max_iter = 24, 16, 40
    x0, y0, scale = module.view(width, height)
    emulated = np.zeros((height, width), np.uint32)
    module.mandelbrot.emulate[width, height](emulated, x0, y0, scale, max_iter)
    reference = showcases.mandelbrot_reference(np.arange(height), width, x0, y0, scale, max_iter)
    assert (reference == emulated).all()
    assert reference.max() == max_iter and reference.min() < 5  # inside and far outside both present


def test_first_launch_says_where_the_kernel_came_from(tmp_path, monkeypatch):
    monkeypatch.setenv("LEGIONELLA_CACHE_DIR", str(tmp_path))
    source = '''
from legionella.lang import Buffer, f32, global_id

# legionella: kernel
def stamp(a: Buffer[f32]):
    i = global_id().x
    if i < len(a):
        a[i] = 7.0
'''
    (tmp_path / "stamped_module.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    with install():
        import stamped_module
    a = lg.zeros(8, dtype=np.float32)

    def launch():
        stamped_module.stamp[8](a)
        lg.synchronize()

    _, first = measure.first_launch(launch)
    assert first == "compiled (not in the disk cache yet), then stored there"
    _, again = measure.first_launch(launch)
    assert again == "already prepared in this process"
    assert (a.numpy() == 7.0).all()
