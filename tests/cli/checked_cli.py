"""Runs the ``legionella`` command (``python checked_cli.py ARGS`` is ``legionella ARGS``) with
tests/conftest.py's two guarantees carried into the subprocess: every SPIR-V module assembled during the
run must pass spirv-val, and the Khronos validation layer (on: LEGIONELLA_VALIDATION=1) must report no
error. A broken guarantee is printed to stderr as ``checked_cli: ...`` and makes the exit status 3.
"""
import os
import subprocess
import sys
import tempfile

os.environ["LEGIONELLA_VALIDATION"] = "1"

from legionella.cli import main  # noqa: E402
from legionella.spirv import hooks  # noqa: E402


def spirv_val(module):
    """The validator's complaint about ``module``, or None when it is valid."""
    env = "vulkan1.3" if module[5] >= 6 else "vulkan1.2"  # header word 1 is 0x00MMmm00, little-endian
    with tempfile.NamedTemporaryFile(suffix=".spv", delete=False) as f:
        f.write(module)
    try:
        run = subprocess.run(["spirv-val", "--target-env", env, f.name], capture_output=True, text=True)
    finally:
        os.unlink(f.name)
    return None if run.returncode == 0 else (run.stdout + run.stderr).strip()


def problems(modules):
    """Every broken guarantee, as lines."""
    found = [f"spirv-val: {message}" for message in map(spirv_val, set(modules)) if message]
    if "legionella.runtime" in sys.modules:
        from legionella.runtime import validation
        found.extend(f"validation layer: {message}" for message in validation.errors())
    return found


if __name__ == "__main__":
    assembled = []
    hooks.add_observer(assembled.append)
    status = main(sys.argv[1:])
    sys.stdout.flush()
    broken = problems(assembled)
    for line in broken:
        print(f"checked_cli: {line}", file=sys.stderr)
    sys.exit(3 if broken else status)
