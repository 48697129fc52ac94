"""Fixtures for the emitter tests: the hand-built modules, and spirv-tools runs."""
import subprocess
import tempfile

import pytest

from . import modules

VERSIONS = [(1, 3), (1, 5)]  # Vulkan 1.1's SPIR-V, and Vulkan 1.2's


def run_tool(args, data):
    """Run a spirv-tools program on a module; return (returncode, stdout + stderr)."""
    with tempfile.NamedTemporaryFile(suffix=".spv") as f:
        f.write(data)
        f.flush()
        run = subprocess.run([*args, f.name], capture_output=True, text=True)
    return run.returncode, run.stdout + run.stderr


@pytest.fixture(params=sorted(modules.ALL))
def module_name(request):
    return request.param
