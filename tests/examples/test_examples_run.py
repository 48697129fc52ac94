"""Each example runs as ``python examples/NAME.py`` from the repository root and checks its own result.

The examples that need workgroup memory and atomics (reduction, histogram, matmul) are tested with
those features.
"""
import os
import pathlib
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]

# example -> what its main() prints once its check has passed
EXAMPLES = {
    "saxpy": "result checked",
    "mandelbrot": "pixels equal to the emulator's",
    "heat": "matches numpy",
    "nbody": "matches numpy",
    "reduction": "(numpy: ",
    "histogram": "matches numpy",
    "matmul": "matches numpy",
}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_runs_and_checks_its_result(name, tmp_path):
    env = dict(os.environ, LEGIONELLA_CACHE_DIR=str(tmp_path), LEGIONELLA_VALIDATION="1")
    run = subprocess.run([sys.executable, f"examples/{name}.py"], cwd=REPO, env=env, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert EXAMPLES[name] in run.stdout and "llvmpipe" in run.stdout, run.stdout
    assert "Traceback" not in run.stderr
