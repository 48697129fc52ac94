"""Import time under the hook, as ratios against a plain import measured in the same run.

Run: ``python -m pytest benchmarks/bench_import.py`` (or ``python benchmarks/bench_import.py [RUNS]`` for
the ratios alone, the median of RUNS runs). Every import is warm: the ordinary pyc and Legionella's pyc
exist before timing starts.

* A generated 2,000-line module without markers, imported with the hook installed vs not.
  Target: at most 1.02x (the hook's whole cost there is reading the source and one bytes search).
* A module of 20 kernels from the warm cache vs the same module imported plainly (markers are then
  only comments and the kernels plain functions). Target: at most 1.2x.

Each ratio is a median over a median, the two imports of each round back to back in alternating order,
so drift in a shared machine's speed cancels out; they are printed and stored in ``extra_info``.
"""
import importlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pytest

from legionella.importer import install

PACKAGE = "bench_import_pkg"
PLAIN_LINES = 2_000
KERNELS = 20
ROUNDS = 400


def plain_module(lines=PLAIN_LINES):
    """About ``lines`` lines of ordinary Python: functions, a class and constants; no markers."""
    chunks = ['"""A generated module without markers."""', "import math", ""]
    n = 0
    while sum(chunk.count("\n") + 1 for chunk in chunks) < lines:
        chunks.append(f"\nCONSTANT_{n} = {n} * 2\n\n\ndef function_{n}(x, y=1.0):\n"
                      f"    \"\"\"Function {n}.\"\"\"\n    z = math.sqrt(abs(x)) + y * {n}\n"
                      f"    return z if z > {n} else -z\n\n\nclass Thing{n}:\n    size = {n}\n")
        n += 1
    return "\n".join(chunks) + "\n"


def kernel_module(kernels=KERNELS):
    """A module of ``kernels`` marked kernels like the examples'."""
    chunks = ["from legionella.lang import Buffer, f32, global_id", ""]
    for n in range(kernels):
        chunks.append(f"\n# legionella: kernel workgroup=(64,)\ndef kernel_{n}(a: f32, x: Buffer[f32], "
                      f"y: Buffer[f32]):\n    i = global_id().x\n    if i < len(y):\n"
                      f"        y[i] = a * x[i] + y[i] + {n}.0\n")
    return "\n".join(chunks) + "\n"


def make_package(root):
    """Write the benchmark package under ``root``, put it on ``sys.path`` and warm both caches."""
    package = Path(root) / PACKAGE
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "plain.py").write_text(plain_module())
    (package / "kernels.py").write_text(kernel_module())
    sys.path.insert(0, str(root))
    dont_write, sys.dont_write_bytecode = sys.dont_write_bytecode, False
    try:
        for name in ("plain", "kernels"):
            fresh_import(name)
            with install():
                fresh_import(name)
    finally:
        sys.dont_write_bytecode = dont_write


def fresh_import(name):
    """Import ``PACKAGE.name`` anew (the package stays imported, as it would in a program)."""
    sys.modules.pop(f"{PACKAGE}.{name}", None)
    return importlib.import_module(f"{PACKAGE}.{name}")


def timed_import(name, hooked):
    """Seconds for one fresh import of ``PACKAGE.name``, with or without the hook installed."""
    if hooked:
        with install():
            start = time.perf_counter()
            fresh_import(name)
            return time.perf_counter() - start
    start = time.perf_counter()
    fresh_import(name)
    return time.perf_counter() - start


def ratio(name, rounds=ROUNDS):
    """Median hooked import time over median plain import time for ``PACKAGE.name``.

    The two imports of a round run back to back, in alternating order: whichever runs second finds the
    file system and allocator caches warmer, and alternating cancels that out."""
    hooked, plain = [], []
    for n in range(rounds):
        order = (True, False) if n % 2 else (False, True)
        for is_hooked in order:
            (hooked if is_hooked else plain).append(timed_import(name, is_hooked))
    return statistics.median(hooked) / statistics.median(plain)


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench_import")
    make_package(root)
    yield root
    sys.path.remove(str(root))
    for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
        del sys.modules[name]


def test_generated_modules_are_what_they_claim(package):
    assert abs(len(plain_module().splitlines()) - PLAIN_LINES) < 20
    with install():
        module = fresh_import("kernels")
    assert sum(type(getattr(module, f"kernel_{n}")).__name__ == "Kernel" for n in range(KERNELS)) == KERNELS
    assert type(fresh_import("kernels").kernel_0).__name__ == "function"


def benchmark_import(benchmark, name, hooked):
    """pytest-benchmark of fresh imports of ``PACKAGE.name``, the hook installed for the whole run or not."""
    if not hooked:
        return benchmark(fresh_import, name)
    with install():
        return benchmark(fresh_import, name)


@pytest.mark.parametrize("hooked", [False, True], ids=["plain", "hooked"])
def test_import_without_markers(benchmark, package, hooked):
    benchmark.group = "2,000-line module without markers"
    benchmark_import(benchmark, "plain", hooked)


@pytest.mark.parametrize("hooked", [False, True], ids=["plain", "warm-cache"])
def test_import_of_twenty_kernels(benchmark, package, hooked):
    benchmark.group = "module of 20 kernels"
    kernel_0 = benchmark_import(benchmark, "kernels", hooked).kernel_0
    assert type(kernel_0).__name__ == ("Kernel" if hooked else "function")


@pytest.mark.parametrize("name, target", [("plain", 1.02), ("kernels", 1.2)])
def test_ratio(benchmark, package, name, target):
    measured = benchmark.pedantic(ratio, args=(name,), rounds=1, iterations=1)
    benchmark.extra_info.update(ratio=round(measured, 4), target=target)
    print(f"\n{name}: hooked / plain import time = {measured:.3f}x (target <= {target}x)")


def main(runs=1):
    """Print each ratio ``runs`` times (the machine is shared and the ratios move by a percent or two from
    run to run), then their median."""
    with tempfile.TemporaryDirectory() as root:
        make_package(root)
        for name, target in (("plain", 1.02), ("kernels", 1.2)):
            measured = [ratio(name) for _ in range(runs)]
            each = "" if runs == 1 else f" (median of {', '.join(f'{r:.3f}' for r in measured)})"
            print(f"{name}: hooked / plain import time = {statistics.median(measured):.3f}x{each} "
                  f"(target <= {target}x)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
