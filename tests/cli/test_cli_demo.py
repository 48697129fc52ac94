"""``legionella demo`` in a fresh process on the default device (lavapipe here, with the CPU sizes; a GPU
elsewhere, with the GPU sizes): the report, both PNGs, and the disk cache."""
import re
import struct
import zlib

import numpy as np
import pytest

from cli_helpers import assert_one_line_error, default_device, run_cli
from legionella.demo.png import decode_png_size
from legionella.demo.showcases import sizes_for
from legionella.runtime import vkdevice

TIME = r"[\d.]+ (?:s|ms|us)"  # measure.fmt_time: a fast GPU kernel takes microseconds


def name_in_another_case(device):
    """A substring of ``device``'s name, upper and lower case swapped (``LLVMPIPE`` for lavapipe), that
    names ``device`` and no device listed before it: ``--device`` must match names case-insensitively."""
    first_word = device.name.split()[0].swapcase()
    return first_word if vkdevice.find_device(first_word) is device else device.name.swapcase()


def png_pixels(data):
    """The RGB pixels of a PNG written by legionella.demo.png (8-bit RGB, filter 0 on every row)."""
    width, height = decode_png_size(data)
    chunks, pos = [], 8
    while pos < len(data):
        (length, kind) = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            chunks.append(data[pos + 8:pos + 8 + length])
        pos += 12 + length
    rows = np.frombuffer(zlib.decompress(b"".join(chunks)), np.uint8).reshape(height, 1 + 3 * width)
    assert not rows[:, 0].any(), "every row uses filter 0"
    return rows[:, 1:].reshape(height, width, 3)


def colour_count(pixels):
    """How many different RGB colours ``pixels`` holds (one integer per pixel: fast on a 4K image too)."""
    rgb = pixels.reshape(-1, 3).astype(np.uint32)
    return len(np.unique(rgb[:, 0] << 16 | rgb[:, 1] << 8 | rgb[:, 2]))


@pytest.fixture(scope="module")
def device():
    """The device the demo runs on when given no --device: the preferred one here."""
    return default_device()


@pytest.fixture(scope="module")
def sizes(device):
    """The demo's sizes on ``device`` (lavapipe: ``SIZES["cpu"]``)."""
    return sizes_for(device)


@pytest.fixture(scope="module")
def demo_dirs(tmp_path_factory):
    return tmp_path_factory.mktemp("demo-cache"), tmp_path_factory.mktemp("demo-out")


@pytest.fixture(scope="module")
def first_demo(demo_dirs, device):
    """The demo run once, with an empty disk cache, on the default device named by a substring of its name."""
    cache, out = demo_dirs
    return run_cli(cache, "demo", "--out", out, "--device", name_in_another_case(device))


def test_demo_succeeds_and_reports_every_showcase(first_demo, device, sizes):
    assert first_demo.returncode == 0, first_demo.stdout + first_demo.stderr
    report = first_demo.stdout
    # On lavapipe: "Legionella 0.1.0 demo on llvmpipe (LLVM 15.0.6, 256 bits) [0]: CPU, Vulkan 1.3, ..."
    named = re.escape(f"{device.name} [{device.index}]: {device.type_name}")
    heading = rf"^Legionella \S+ demo on {named}, Vulkan 1\.\d"
    assert re.search(heading, report, re.M), report
    width, height, max_iter = sizes.mandelbrot
    n, steps = sizes.heat
    for title in (f"saxpy: y = a*x + y over {sizes.saxpy:,} float32",
                  f"mandelbrot: {width}x{height}, up to {max_iter} iterations",
                  f"heat: {n}x{n} plate, {steps} Jacobi steps", "reduction: sum of"):
        assert title in report, report
    assert re.search(r"^  result +matches numpy \(largest difference ", report, re.M), report
    assert re.search(rf"^  kernel +{TIME}: [\d.]+ GB/s$", report, re.M), report
    assert re.search(rf"^  numpy +{TIME}: [\d.]+ GB/s", report, re.M), report
    assert "rows match numpy" in report and "steps match numpy" in report
    assert "WRONG" not in report
    assert report.rstrip().splitlines()[-1].startswith("done in ")
    assert first_demo.stderr.count("checked_cli") == 0, first_demo.stderr


def test_demo_times_codegen_cold_and_cached_and_compiles_on_first_launch(first_demo):
    report = first_demo.stdout
    codegen = re.findall(rf"^  codegen +{TIME} cold, {TIME} cached in process$", report, re.M)
    launched = re.findall(rf"^  first launch +{TIME}: (.*)$", report, re.M)
    assert len(codegen) == len(launched) == 4, report
    assert set(launched) == {"compiled (not in the disk cache yet), then stored there"}, launched


def test_demo_writes_both_pngs_at_the_expected_sizes(first_demo, demo_dirs, sizes):
    assert first_demo.returncode == 0, first_demo.stderr
    out = demo_dirs[1]
    mandelbrot = (out / "mandelbrot.png").read_bytes()
    heat = (out / "heat.png").read_bytes()
    assert decode_png_size(mandelbrot) == sizes.mandelbrot[:2]
    assert decode_png_size(heat) == (sizes.heat[0],) * 2
    # Real pictures, not a flat fill: many colours; the centre pixel, c = -0.75+0i, inside the set, is dark.
    pixels = png_pixels(mandelbrot)
    assert colour_count(pixels) > 20
    width, height, _ = sizes.mandelbrot
    assert pixels[height // 2, width // 2].max() < 50, pixels[height // 2, width // 2]
    assert colour_count(png_pixels(heat)) > 20


def test_demo_reduction_sum_is_checked(first_demo):
    section = first_demo.stdout.split("reduction:")[1]
    total, expected = (float(v.replace(",", "")) for v in
                       re.search(r"result +([\d,.]+) \(numpy: ([\d,.]+)\)", section).groups())
    assert abs(total - expected) <= 1e-4 * expected and expected > 1e6
    assert re.search(rf"kernel +{TIME} \(every pass", section)


def test_second_demo_loads_every_kernel_from_the_disk_cache(first_demo, demo_dirs):
    assert first_demo.returncode == 0
    second = run_cli(demo_dirs[0], "demo", "--out", demo_dirs[1])
    assert second.returncode == 0, second.stderr
    launched = re.findall(rf"^  first launch +{TIME}: (.*)$", second.stdout, re.M)
    assert launched and set(launched) == {"loaded from the disk cache, no codegen"}, second.stdout


def test_demo_on_a_device_that_does_not_exist_is_one_line(tmp_path):
    run = run_cli(tmp_path, "demo", "--out", tmp_path, "--device", "no-such-gpu")
    assert_one_line_error(run, "no device name contains 'no-such-gpu'; the devices are: ",
                          *(f"{d.index}: {d.name}" for d in vkdevice.devices()))


def test_demo_into_an_unwritable_place_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    run = run_cli(tmp_path, "demo", "--out", blocker / "out")
    assert_one_line_error(run, str(blocker))
