"""Legionella against glslang-built shaders of the same algorithm, CuPy and torch, on one GPU in one run.

Run on a machine with a GPU (the H200 run is described in docs/performance.md):

    python benchmarks/gpu_compare.py [--log2n 26] [--json out.json]

Kernel times come from GPU timestamps: ``vkCmdWriteTimestamp`` for Vulkan (Legionella and glslang
shaders go through the same launch path, so only the SPIR-V differs), CUDA events for CuPy and torch.
Every figure is the best of ``--repeat`` batches of back-to-back launches. The GLSL sources are in
benchmarks/glsl/; they are compiled with glslangValidator when it is installed, else the .spv files
built beside them on another machine are used (``--build-only`` builds them without running).
"""
import argparse
import dataclasses
import json
import pathlib
import shutil
import subprocess
import sys

import numpy as np

GLSL = pathlib.Path(__file__).resolve().parent / "glsl"
SPV = GLSL / "spv"


def build_spirv():
    """Compile every benchmarks/glsl/*.comp to glsl/spv/*.spv (needs glslangValidator)."""
    SPV.mkdir(exist_ok=True)
    for source in sorted(GLSL.glob("*.comp")):
        target = SPV / (source.stem + ".spv")
        if not target.exists() or target.stat().st_mtime < source.stat().st_mtime:
            subprocess.run(["glslangValidator", "-V", "--target-env", "vulkan1.1", "-o", str(target),
                            str(source)], check=True, capture_output=True)


def glsl_launcher(kernel, name):
    """A launcher for the hand-written shader ``name`` that takes the same arguments as ``kernel``."""
    import legionella as lg
    from legionella.runtime.launch import Launcher
    twin = lg.Kernel(kernel.py_func, source=kernel.source + f"\n# glslang twin: {name}\n",
                     options=kernel.options)
    device = lg.device()
    compiled = dataclasses.replace(twin.compile(device.target), spirv=(SPV / f"{name}.spv").read_bytes(),
                                   elements_per_invocation=1)  # the shaders handle the grid they are given
    launcher = Launcher(twin, device, compiled=compiled)
    return lambda grid, *args: launcher.launch(grid, args)


def vulkan_time(enqueue, repeat, batch=20):
    from legionella.runtime.timing import device_time
    enqueue()
    return min(device_time(enqueue, repeat=batch) for _ in range(repeat))


def cuda_time(fn, repeat, batch=20):
    import torch
    fn()
    torch.cuda.synchronize()
    best = float("inf")
    for _ in range(repeat):
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(batch):
            fn()
        stop.record()
        stop.synchronize()
        best = min(best, start.elapsed_time(stop) * 1e-3 / batch)
    return best


def optional(module):
    try:
        return __import__(module)
    except ImportError:
        return None


def bench_saxpy(n, repeat):
    import legionella as lg
    from examples.saxpy import saxpy
    x = lg.array(np.random.default_rng(0).random(n, dtype=np.float32))
    y = lg.zeros(n, dtype=np.float32)
    rows = {"legionella": vulkan_time(lambda: saxpy[n](2.0, x, y), repeat)}
    scalar, vec4 = glsl_launcher(saxpy, "saxpy"), glsl_launcher(saxpy, "saxpy_vec4")
    rows["glslang scalar"] = vulkan_time(lambda: scalar((n, 1, 1), 2.0, x, y), repeat)
    rows["glslang vec4"] = vulkan_time(lambda: vec4((n // 4, 1, 1), 2.0, x, y), repeat)
    torch, cupy = optional("torch"), optional("cupy")
    if torch is not None and torch.cuda.is_available():
        tx, ty = torch.rand(n, device="cuda"), torch.zeros(n, device="cuda")
        rows["torch add_"] = cuda_time(lambda: ty.add_(tx, alpha=2.0), repeat)
    if cupy is not None:
        kernel = cupy.ElementwiseKernel("float32 a, float32 x", "float32 y", "y = a * x + y", "saxpy")
        cx, cy = cupy.random.random(n, dtype=np.float32), cupy.zeros(n, dtype=np.float32)
        rows["cupy"] = cuda_time(lambda: kernel(np.float32(2.0), cx, cy), repeat)
    return "saxpy", 12 * n, 2 * n, rows


def bench_copy(n, repeat):
    import legionella as lg
    from benchmarks.kernels import copy
    src, dst = lg.array(np.ones(n, dtype=np.float32)), lg.zeros(n, dtype=np.float32)
    rows = {"legionella": vulkan_time(lambda: copy[n](src, dst), repeat)}
    twin = glsl_launcher(copy, "copy")
    rows["glslang"] = vulkan_time(lambda: twin((n, 1, 1), src, dst), repeat)
    torch = optional("torch")
    if torch is not None and torch.cuda.is_available():
        ts, td = torch.ones(n, device="cuda"), torch.zeros(n, device="cuda")
        rows["torch copy_"] = cuda_time(lambda: td.copy_(ts), repeat)
    return "copy", 8 * n, 0, rows


def bench_jacobi(n, repeat):
    import legionella as lg
    from examples.heat import jacobi_step
    side = int(np.sqrt(n))
    a = lg.array(np.random.default_rng(0).random((side, side), dtype=np.float32))
    b = lg.empty((side, side), dtype=np.float32)
    rows = {"legionella": vulkan_time(lambda: jacobi_step[side, side](a, b, 0.2), repeat)}
    twin = glsl_launcher(jacobi_step, "jacobi")
    rows["glslang"] = vulkan_time(lambda: twin((side, side, 1), a, b, 0.2), repeat)
    torch = optional("torch")
    if torch is not None and torch.cuda.is_available():
        ta = torch.rand(side, side, device="cuda")
        weights = torch.tensor([[0, 0.2, 0], [0.2, 0.2, 0.2], [0, 0.2, 0]], device="cuda").view(1, 1, 3, 3)
        conv = torch.nn.functional.conv2d
        image = ta.view(1, 1, side, side)
        rows["torch conv2d"] = cuda_time(lambda: conv(image, weights, padding=1), repeat)
    return "jacobi 2-D", 8 * side * side, 6 * side * side, rows


def bench_reduction(n, repeat):
    import legionella as lg
    from benchmarks.kernels import device_sum, sum_blocks
    values = np.random.default_rng(0).random(n, dtype=np.float32)
    x, partial = lg.array(values), lg.zeros(1024, dtype=np.float32)
    device_sum(x, partial)
    assert abs(float(partial.numpy()[0]) - values.sum(dtype=np.float64)) < 1e-4 * n
    rows = {"legionella": vulkan_time(lambda: device_sum(x, partial), repeat)}
    twin = glsl_launcher(sum_blocks, "sum_blocks")
    rows["glslang"] = vulkan_time(lambda: (twin((1024 * 256, 1, 1), x, partial),
                                           twin((256, 1, 1), partial, partial)), repeat)
    torch, cupy = optional("torch"), optional("cupy")
    if torch is not None and torch.cuda.is_available():
        tx = torch.rand(n, device="cuda")
        rows["torch sum"] = cuda_time(lambda: tx.sum(), repeat)
    if cupy is not None:
        cx = cupy.random.random(n, dtype=np.float32)
        rows["cupy sum"] = cuda_time(lambda: cx.sum(), repeat)
    return "reduction", 4 * n, n, rows


def bench_sgemm(n, repeat, side=4096):
    import legionella as lg
    from examples import sgemm
    from examples.matmul import matmul
    rng = np.random.default_rng(0)
    host_a = rng.standard_normal((side, side), dtype=np.float32)
    host_b = rng.standard_normal((side, side), dtype=np.float32)
    a, b, c = lg.array(host_a), lg.array(host_b), lg.empty((side, side), dtype=np.float32)
    corners = (slice(0, 64), slice(side - 64, side))  # C's first and last 64x64 blocks are checked
    expected = [host_a[rows] @ host_b[:, rows] for rows in corners]

    def checked(enqueue):
        c.copy_from(np.zeros((side, side), np.float32))
        seconds = vulkan_time(enqueue, repeat, batch=3)
        result = c.numpy()
        for rows, want in zip(corners, expected):
            np.testing.assert_allclose(result[rows, rows], want, rtol=1e-3, atol=1e-2)
        return seconds

    tiled, regs = glsl_launcher(matmul, "matmul"), glsl_launcher(sgemm.sgemm, "sgemm")
    reg_grid = (-(-side // sgemm.TILE_N) * 16, -(-side // sgemm.TILE_M) * 16, 1)
    rows = {"legionella tiled": checked(lambda: matmul[side, side](a, b, c)),
            "glslang tiled": checked(lambda: tiled((side, side, 1), a, b, c)),
            "legionella 8x8 regs": checked(lambda: sgemm.launch(a, b, c)),
            "glslang 8x8 regs": checked(lambda: regs(reg_grid, a, b, c))}
    torch = optional("torch")
    if torch is not None and torch.cuda.is_available():
        torch.backends.cuda.matmul.allow_tf32 = False
        ta, tb = torch.randn(side, side, device="cuda"), torch.randn(side, side, device="cuda")
        rows["torch matmul fp32"] = cuda_time(lambda: ta @ tb, repeat, batch=3)
    return f"sgemm {side}^3", 12 * side * side, 2 * side ** 3, rows


BENCHES = {"saxpy": bench_saxpy, "copy": bench_copy, "jacobi": bench_jacobi, "reduction": bench_reduction,
           "sgemm": bench_sgemm}
REFERENCES = ("torch add_", "torch copy_", "torch conv2d", "cupy sum", "torch matmul fp32")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log2n", type=int, default=26)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", nargs="*", choices=sorted(BENCHES), default=sorted(BENCHES))
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--build-only", action="store_true", help="compile the GLSL shaders and stop")
    args = parser.parse_args(argv)
    if shutil.which("glslangValidator"):
        build_spirv()
    if args.build_only:
        return 0
    import legionella.auto  # noqa: F401  (the example and benchmark kernels are marked modules)
    import legionella as lg
    n = 1 << args.log2n
    print(f"device: {lg.device().name}; n = 2^{args.log2n}; best of {args.repeat} batches, GPU timestamps")
    results = []
    for name in args.only:
        title, nbytes, flops, rows = BENCHES[name](n, args.repeat)
        reference = next((who for who in REFERENCES if who in rows), None)
        for who, seconds in rows.items():
            ratio = f"{rows[reference] / seconds:6.2f}x {reference}" if reference else ""
            print(f"{title:12} {who:16} {seconds * 1e6:10.1f} us {nbytes / seconds / 1e9:9.1f} GB/s "
                  f"{flops / seconds / 1e9:9.1f} GFLOP/s {ratio}")
            results.append({"bench": title, "who": who, "seconds": seconds, "bytes": nbytes, "flops": flops})
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
    raise SystemExit(main())
