"""The suite's guarantee that spirv-val runs on every module a test assembles: a planted invalid module
fails its test, and ``allow_invalid_spirv`` lets a test that means it pass. (The validation layer's
guarantee is tested in tests/runtime/test_validation.py.)"""
import subprocess
import sys

from subprocess_env import TESTS, child_env

PLANTED = '''
import pytest
from legionella.spirv import Op
from legionella.spirv.enums import ExecutionModel, StorageClass
from modules import Compute


def store_to_an_input_variable():
    """A compute module that writes gl_GlobalInvocationID: the builder accepts it, spirv-val must not."""
    k = Compute()
    k.f.op(Op.Store, None, k.gid_var, k.f.op(Op.Load, k.m.type_vector(k.uint, 3), k.gid_var))
    k.finish().to_bytes()


def test_planted_invalid_module_fails():
    store_to_an_input_variable()


@pytest.mark.allow_invalid_spirv
def test_planted_invalid_module_allowed():
    store_to_an_input_variable()
'''


def test_a_planted_invalid_module_fails_its_test(tmp_path):
    (tmp_path / "conftest.py").write_text((TESTS / "conftest.py").read_text())
    (tmp_path / "test_planted.py").write_text(PLANTED)
    env = child_env(TESTS, TESTS / "spirv")  # spirv_validator.py, and modules.py's Compute builder
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert "1 failed, 1 passed" in run.stdout, run.stdout + run.stderr
    assert "FAILED test_planted.py::test_planted_invalid_module_fails" in run.stdout
    assert "spirv-val rejected a module this test produced" in run.stdout
