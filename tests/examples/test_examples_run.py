"""Each example runs as ``python examples/NAME.py`` from the repository root and checks its own result.

The examples that need workgroup memory and atomics (reduction, histogram, matmul) are tested with
those features. Each names the device it ran on: the one a fresh process chooses here (lavapipe on
this project's CI, LEGIONELLA_DEVICE's choice where it is set).
"""
import subprocess
import sys

import pytest

from subprocess_env import REPO, child_env, device_of_a_fresh_process

# example -> what its main() prints once its check has passed
EXAMPLES = {
    "saxpy": "result checked",
    "bindings": "result checked",
    "mandelbrot": "pixels equal to the emulator's",
    "heat": "matches numpy",
    "nbody": "matches numpy",
    "reduction": "(numpy: ",
    "histogram": "matches numpy",
    "matmul": "matches numpy",
    "sgemm": "shapes match numpy",
}


def test_every_example_is_run_here():
    assert sorted(EXAMPLES) == sorted(path.stem for path in (REPO / "examples").glob("*.py")
                                      if path.stem != "__init__")


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_runs_and_checks_its_result(name, tmp_path):
    env = child_env(LEGIONELLA_CACHE_DIR=str(tmp_path), LEGIONELLA_VALIDATION="1")
    run = subprocess.run([sys.executable, f"examples/{name}.py"], cwd=REPO, env=env, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    device = device_of_a_fresh_process(env)
    assert EXAMPLES[name] in run.stdout and f" on {device.name}: " in run.stdout, run.stdout
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_example_kernel_compiles_for_the_generic_target(name):
    """`legionella disasm --generic` is what troubleshooting.md asks for in a bug report: it must work for
    every kernel we ship (the generic target's limits once refused sgemm's shared memory)."""
    import importlib

    import legionella as lg
    from legionella.compiler import Target, compile_kernel
    from legionella.importer import install
    sys.modules.pop(f"examples.{name}", None)
    with install():  # the examples use markers
        module = importlib.import_module(f"examples.{name}")
    sys.modules.pop(f"examples.{name}")
    kernels = [k for k in vars(module).values() if isinstance(k, lg.Kernel)]
    assert kernels
    for kernel in kernels:
        compile_kernel(kernel, Target())
