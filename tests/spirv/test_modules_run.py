"""The hand-built modules pass spirv-val for Vulkan 1.1 and 1.2 and compute the right results on the device."""
import numpy as np
import pytest

import legionella.runtime as runtime

from . import modules
from .conftest import run_tool

VALIDATION_TARGETS = {"vulkan1.1": (1, 3), "vulkan1.2": (1, 5)}
N = 1000
GROUPS = ((N + modules.LOCAL_SIZE - 1) // modules.LOCAL_SIZE, 1, 1)

needs_dispatch = pytest.mark.skipif(not hasattr(runtime, "dispatch_spirv"),
                                    reason="legionella.runtime has no dispatch_spirv yet (issue: runtime helper)")


@pytest.mark.parametrize("target", sorted(VALIDATION_TARGETS))
def test_spirv_val(module_name, target):
    for version in ((1, 3), VALIDATION_TARGETS[target]):
        code, message = run_tool(["spirv-val", "--target-env", target], modules.ALL[module_name](version).to_bytes())
        assert code == 0, message


def dispatch(name, buffers, push_constants=b"", count=N):
    groups = ((count + modules.LOCAL_SIZE - 1) // modules.LOCAL_SIZE, 1, 1)
    return runtime.dispatch_spirv(modules.ALL[name]().to_bytes(), buffers, push_constants=push_constants,
                                  groups=groups, entry_point="main")


@needs_dispatch
def test_saxpy_runs():
    x = np.arange(N + 64, dtype=np.float32)
    y = np.full(N + 64, 2.0, dtype=np.float32)
    a = np.float32(3.0)
    push = np.array([a], dtype=np.float32).tobytes() + np.array([N], dtype=np.uint32).tobytes()
    _, out = dispatch("saxpy", [x, y.copy()], push)
    expected = y.copy()
    expected[:N] = a * x[:N] + y[:N]  # the tail past n is untouched
    np.testing.assert_allclose(out, expected, rtol=1e-6)


@needs_dispatch
def test_loop_with_break_and_continue_runs():
    (out,) = dispatch("loop", [np.zeros(N, dtype=np.uint32)])
    expected = [sum(j for j in range(min(i, 99) + 1) if j % 3) for i in range(N)]
    np.testing.assert_array_equal(out, np.array(expected, dtype=np.uint32))


@needs_dispatch
def test_nested_selection_runs():
    (out,) = dispatch("nested_selection", [np.zeros(N, dtype=np.uint32)])
    expected = [(1 if i % 3 else 2) if i % 2 else (3 if i % 5 else 4) for i in range(N)]
    np.testing.assert_array_equal(out, np.array(expected, dtype=np.uint32))


@needs_dispatch
def test_workgroup_memory_and_barrier_run():
    count = 16 * modules.LOCAL_SIZE
    data = np.random.default_rng(1).random(count, dtype=np.float32)
    _, out = dispatch("workgroup_reverse", [data, np.zeros(count, dtype=np.float32)], count=count)
    np.testing.assert_array_equal(out, data.reshape(-1, modules.LOCAL_SIZE)[:, ::-1].ravel())


@needs_dispatch
def test_atomic_add_runs():
    count = 8 * modules.LOCAL_SIZE
    data = np.random.default_rng(2).integers(0, 1000, count, dtype=np.uint32)
    _, counts = dispatch("atomic_add", [data, np.zeros(8, dtype=np.uint32)], count=count)
    np.testing.assert_array_equal(counts, np.bincount(data % 8, minlength=8).astype(np.uint32))
