"""Throughput of the example kernels on the default device, each next to numpy doing the same work in the
same run (pytest-benchmark groups them; compare the rows of a group).

Run: ``make bench`` or ``python -m pytest benchmarks/bench_throughput.py``. Device figures are wall time
of launch + synchronize, which on lavapipe is the kernel's time; on a GPU see gpu_compare.py, which reads
GPU timestamps.
"""
import os

import numpy as np
import pytest

os.environ.setdefault("LEGIONELLA_VALIDATION", "0")

import legionella as lg  # noqa: E402
from legionella.importer import install  # noqa: E402

with install():  # the examples are marked modules; not `import legionella.auto`, which would leave the hook
    from examples import heat, mandelbrot, matmul, reduction, saxpy  # installed under bench_import's plain runs

N = 1 << 22
SIDE = 1024
MATRIX = 256


def run_synced(fn):
    def run():
        fn()
        lg.synchronize()
    return run


@pytest.mark.benchmark(group="saxpy 4M")
def test_saxpy_device(benchmark):
    x, y = lg.array(np.ones(N, dtype=np.float32)), lg.zeros(N, dtype=np.float32)
    benchmark(run_synced(lambda: saxpy.saxpy[N](2.0, x, y)))


@pytest.mark.benchmark(group="saxpy 4M")
def test_saxpy_numpy(benchmark):
    x, y = np.ones(N, dtype=np.float32), np.zeros(N, dtype=np.float32)
    benchmark(lambda: np.add(y, np.float32(2.0) * x, out=y))


@pytest.mark.benchmark(group="jacobi 1024^2")
def test_jacobi_device(benchmark):
    a, b = lg.array(heat.initial_plate(SIDE)), lg.empty((SIDE, SIDE), dtype=np.float32)
    benchmark(run_synced(lambda: heat.jacobi_step[SIDE, SIDE](a, b, 0.24)))


@pytest.mark.benchmark(group="jacobi 1024^2")
def test_jacobi_numpy(benchmark):
    plate = heat.initial_plate(SIDE)
    benchmark(lambda: heat.reference_step(plate, np.float32(0.24)))


@pytest.mark.benchmark(group="mandelbrot 512x512")
def test_mandelbrot_device(benchmark):
    image = lg.zeros((512, 512), dtype=np.uint32)
    x0, y0, scale = mandelbrot.view(512, 512)
    benchmark(run_synced(lambda: mandelbrot.mandelbrot[512, 512](image, x0, y0, scale, 64)))


def numpy_mandelbrot(width, height, max_iter):
    x0, y0, scale = mandelbrot.view(width, height)
    c = (x0 + np.arange(width, dtype=np.float32) * np.float32(scale))[None, :] \
        + 1j * (y0 + np.arange(height, dtype=np.float32) * np.float32(scale))[:, None]
    z = np.zeros_like(c)
    count = np.zeros(c.shape, dtype=np.uint32)
    for _ in range(max_iter):
        inside = np.abs(z) < 2
        z[inside] = z[inside] ** 2 + c[inside]
        count += inside
    return count


@pytest.mark.benchmark(group="mandelbrot 512x512")
def test_mandelbrot_numpy(benchmark):
    benchmark(lambda: numpy_mandelbrot(512, 512, 64))


@pytest.mark.benchmark(group="sum 4M")
def test_reduction_device(benchmark):
    x = lg.array(np.ones(N, dtype=np.float32))
    benchmark(lambda: reduction.device_sum(x))


@pytest.mark.benchmark(group="sum 4M")
def test_reduction_numpy(benchmark):
    x = np.ones(N, dtype=np.float32)
    benchmark(x.sum)


@pytest.mark.benchmark(group="sgemm 256^3")
def test_sgemm_device(benchmark):
    a = lg.array(np.ones((MATRIX, MATRIX), dtype=np.float32))
    b = lg.array(np.ones((MATRIX, MATRIX), dtype=np.float32))
    c = lg.empty((MATRIX, MATRIX), dtype=np.float32)
    benchmark(run_synced(lambda: matmul.matmul[MATRIX, MATRIX](a, b, c)))


@pytest.mark.benchmark(group="sgemm 256^3")
def test_sgemm_numpy(benchmark):
    a = np.ones((MATRIX, MATRIX), dtype=np.float32)
    benchmark(lambda: a @ a)
