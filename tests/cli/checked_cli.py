"""Runs the ``legionella`` command (``python checked_cli.py ARGS`` is ``legionella ARGS``) with
tests/conftest.py's two guarantees carried into the subprocess: every SPIR-V module assembled during the
run must pass spirv-val, and the Khronos validation layer (on: LEGIONELLA_VALIDATION=1) must report no
error. A broken guarantee is printed to stderr as ``checked_cli: ...`` and makes the exit status 3.
"""
import os
import sys

os.environ["LEGIONELLA_VALIDATION"] = "1"

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests/, for spirv_validator
from legionella.cli import main  # noqa: E402
from legionella.spirv import hooks  # noqa: E402
from spirv_validator import spirv_val  # noqa: E402


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
