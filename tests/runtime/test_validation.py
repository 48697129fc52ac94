"""The validation contract: layer errors are recorded, and the test suite's conftest turns them into failures."""
import os
import subprocess
import sys

import pytest

import legionella as lg
from legionella.runtime import _vk, validation
from subprocess_env import TESTS, child_env

needs_layer = pytest.mark.skipif(not validation.requested(), reason="LEGIONELLA_VALIDATION is off in this run")


def create_zero_size_buffer():
    """Break VUID-VkBufferCreateInfo-size-00912 (size must be greater than 0), then clean up."""
    vk = _vk.vk
    device = lg.device()
    info = vk.VkBufferCreateInfo(size=0, usage=vk.VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
                                 sharingMode=vk.VK_SHARING_MODE_EXCLUSIVE)
    try:
        buffer = vk.vkCreateBuffer(device.handle, info, None)
    except vk.VkError:
        return
    vk.vkDestroyBuffer(device.handle, buffer, None)


@needs_layer
@pytest.mark.allow_validation_errors
def test_layer_errors_are_recorded_and_cleared():
    validation.clear()
    create_zero_size_buffer()
    assert any("size" in m for m in validation.errors())
    validation.clear()
    assert validation.errors() == []


def test_normal_work_is_clean():
    a = lg.array([1.0, 2.0])
    assert a.numpy().tolist() == [1.0, 2.0]
    assert validation.errors() == []


PLANTED = '''
import pytest
import legionella as lg
from test_validation import create_zero_size_buffer


def test_planted_error_fails():
    lg.device()
    create_zero_size_buffer()


@pytest.mark.allow_validation_errors
def test_planted_error_allowed():
    lg.device()
    create_zero_size_buffer()
'''


@needs_layer
def test_a_planted_validation_error_fails_its_test(tmp_path):
    """Runs pytest on a planted error with the suite's real conftest (as pytester would, in a subprocess)."""
    (tmp_path / "conftest.py").write_text((TESTS / "conftest.py").read_text())
    (tmp_path / "test_planted.py").write_text(PLANTED)
    # The copied conftest imports tests/spirv_validator.py; the planted test imports this module.
    env = child_env(TESTS, os.path.dirname(__file__), LEGIONELLA_VALIDATION="1")
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert "1 failed, 1 passed" in run.stdout, run.stdout + run.stderr
    assert "FAILED test_planted.py::test_planted_error_fails" in run.stdout
    assert "Vulkan validation error" in run.stdout and "VUID-VkBufferCreateInfo-size-00912" in run.stdout
