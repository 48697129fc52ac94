"""Two guarantees for every test (DESIGN section 4):

* every SPIR-V module assembled during the test passes ``spirv-val``; a failure fails the test;
* the Khronos validation layer is on (``LEGIONELLA_VALIDATION=1``) and any error it reports while the
  test runs fails the test.

A test that means to produce an invalid module or a validation error says so with
``@pytest.mark.allow_invalid_spirv`` or ``@pytest.mark.allow_validation_errors``.
"""
import os
import sys
import tempfile

import pytest

os.environ.setdefault("LEGIONELLA_VALIDATION", "1")
# Every test run starts with an empty disk cache of its own: a kernel cached by an earlier run (or by the
# user) must never stand in for what this run's compiler produces.
os.environ["LEGIONELLA_CACHE_DIR"] = tempfile.mkdtemp(prefix="legionella-test-cache-")

from legionella.spirv import hooks  # noqa: E402
from spirv_validator import spirv_val  # noqa: E402


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
