"""Two guarantees for every test (DESIGN section 4):

* every SPIR-V module assembled during the test passes ``spirv-val``; a failure fails the test;
* the Khronos validation layer is on (``LEGIONELLA_VALIDATION=1``) and any error it reports while the
  test runs fails the test.

A test that means to produce an invalid module or a validation error says so with
``@pytest.mark.allow_invalid_spirv`` or ``@pytest.mark.allow_validation_errors``.
"""
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

os.environ.setdefault("LEGIONELLA_VALIDATION", "1")

from legionella.spirv import hooks  # noqa: E402

_validated = {}  # sha256 -> None (valid) or the validator's message


def spirv_target_env(spirv_bytes):
    """The spirv-val target environment for a module's SPIR-V version (word 1 of the header)."""
    minor = spirv_bytes[5] if len(spirv_bytes) >= 8 else 0  # header word 1 is 0x00MMmm00, little-endian
    return "vulkan1.3" if minor >= 6 else "vulkan1.2"


def spirv_val(spirv_bytes):
    """Run spirv-val on a module; return None when valid, else the validator's message."""
    key = hashlib.sha256(spirv_bytes).hexdigest()
    if key not in _validated:
        if shutil.which("spirv-val") is None:
            pytest.fail("spirv-val is not installed (Debian package spirv-tools); run `make test`")
        with tempfile.NamedTemporaryFile(suffix=".spv", delete=False) as f:
            f.write(spirv_bytes)
        try:
            run = subprocess.run(["spirv-val", "--target-env", spirv_target_env(spirv_bytes), f.name],
                                 capture_output=True, text=True)
        finally:
            os.unlink(f.name)
        _validated[key] = None if run.returncode == 0 else (run.stdout + run.stderr).strip()
    return _validated[key]


def _validation_messages():
    runtime = sys.modules.get("legionella.runtime")
    if runtime is None:
        return None
    from legionella.runtime import validation
    return validation


def pytest_configure(config):
    config.addinivalue_line("markers", "allow_invalid_spirv: the test produces SPIR-V that spirv-val rejects")
    config.addinivalue_line("markers", "allow_validation_errors: the test triggers validation-layer errors")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    modules = []
    remove = hooks.add_observer(modules.append)
    validation = _validation_messages()
    if validation is not None:
        validation.clear()
    try:
        result = yield
    finally:
        remove()
    problems = []
    if item.get_closest_marker("allow_invalid_spirv") is None:
        for m in modules:
            message = spirv_val(m)
            if message:
                problems.append(f"spirv-val rejected a module this test produced:\n{message}")
    validation = _validation_messages()
    if validation is not None and item.get_closest_marker("allow_validation_errors") is None:
        problems.extend(f"Vulkan validation error: {m}" for m in validation.errors())
    if problems:
        raise AssertionError("\n".join(problems))
    return result
