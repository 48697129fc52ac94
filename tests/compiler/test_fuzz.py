"""Differential fuzzing: random well-typed kernels (kernelgen) give the same results on the device as in
``kernel.emulate``; integers exactly, floats within :data:`FLOAT_RTOL` / :data:`FLOAT_ATOL`.

Each program is written to a module file, imported, and wrapped with ``legionella.kernel`` (which
reads its source). Each program's module goes through spirv-val and must cause no validation-layer
error. The same 200 programs run in every CI run; ``LEGIONELLA_FUZZ_EXAMPLES=N`` runs N new ones;
``LEGIONELLA_FUZZ_NONFINITE=1`` adds inf and NaN inputs. A failure prints the program's source, shrunk
by hypothesis; if the driver kills the process instead, the newest ``fuzz_kernel_*.py`` under pytest's
base temporary directory is the program that did it.
"""
import importlib.util
import itertools
import os
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import legionella as lg
from legionella.runtime import validation

from spirv_validator import spirv_val

import kernelgen

EXAMPLES = int(os.environ.get("LEGIONELLA_FUZZ_EXAMPLES", "200"))
# CI runs the same programs every time (a red CI run is about the change, not the draw); asking for a
# number of examples explores new ones.
EXPLORE = "LEGIONELLA_FUZZ_EXAMPLES" in os.environ
# Opt-in: inf, -inf and NaN inputs. min/max/clamp map to GLSL.std.450 (DESIGN 2.3), whose NaN behaviour
# differs from Python's order-dependent min(nan, 1.0) == nan, so these runs report such differences.
NONFINITE = os.environ.get("LEGIONELLA_FUZZ_NONFINITE") == "1"
FUZZ_SETTINGS = settings(max_examples=EXAMPLES, deadline=None, print_blob=True, derandomize=not EXPLORE,
                         suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                HealthCheck.large_base_example])
# Floats: lavapipe matches numpy bit for bit on most programs; ``**`` (a pow) differed by a few ulps
# (measured: 2 programs in 300, at most 6e-7 relative), which cancellation can amplify.
FLOAT_RTOL = 1e-4
FLOAT_ATOL = 1e-5

_modules = itertools.count()


def load_kernel(source, directory):
    """Write ``source`` as a module under ``directory``, import it and wrap its ``kern`` as a kernel
    (with the module's ``WORKGROUP``); returns the kernel and the module's launch ``GRID``."""
    name = f"fuzz_kernel_{os.getpid()}_{next(_modules)}"
    path = directory / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # inspect.getsource finds the file through the module
    spec.loader.exec_module(module)
    return lg.kernel(module.kern, workgroup=module.WORKGROUP), module.GRID


def make_inputs(seed):
    """Inputs for one program: extreme and ordinary values for ints, bounded finite floats."""
    rng = np.random.default_rng(seed)
    n = kernelgen.N
    extremes = np.array([0, 1, -1, 2**31 - 1, -2**31, 7, -7, 65536], dtype=np.int64)
    xi = np.where(rng.random(n) < 0.3, rng.choice(extremes, n), rng.integers(-1000, 1000, n)).astype(np.int32)
    xu = np.where(rng.random(n) < 0.3, rng.choice(extremes, n), rng.integers(0, 2000, n)).astype(np.uint32)
    xf = (rng.standard_normal(n) * 10).astype(np.float32)
    xf[rng.random(n) < 0.1] = 0.0
    if NONFINITE:
        xf[rng.random(n) < 0.1] = rng.choice(np.array([np.inf, -np.inf, np.nan, -0.0], np.float32))
    xm = rng.integers(-2**31, 2**31, (n, kernelgen.COLUMNS)).astype(np.int32)
    outputs = [np.zeros(n * kernelgen.SLOTS, dtype=dtype) for dtype in (np.int32, np.uint32, np.float32)]
    si = int(rng.choice(extremes)) if rng.random() < 0.3 else int(rng.integers(-100, 100))
    su = int(rng.choice(extremes) % 2**32) if rng.random() < 0.3 else int(rng.integers(0, 100))
    scalars = [si, su, float(np.float32(rng.standard_normal()))]
    return [xi, xu, xf, xm], outputs, scalars


def emulate(kernel, grid, inputs, outputs, scalars):
    outputs = [o.copy() for o in outputs]
    kernel.emulate[grid](*inputs, *outputs, *scalars)
    return outputs


def run_on_device(kernel, grid, inputs, outputs, scalars):
    arrays = [lg.array(a) for a in (*inputs, *outputs)]
    kernel[grid](*arrays, *scalars)
    return [a.numpy() for a in arrays[len(inputs):]]


def assert_same(expected, actual, source):
    names = ("oi", "ou", "of")
    for name, e, a in zip(names[:2], expected, actual):
        bad = np.flatnonzero(e != a)
        assert not bad.size, _mismatch(name, bad, e, a, source)
    e, a = expected[2], actual[2]
    close = np.isclose(a, e, rtol=FLOAT_RTOL, atol=FLOAT_ATOL, equal_nan=True) | (a == e)
    bad = np.flatnonzero(~close)
    assert not bad.size, _mismatch("of", bad, e, a, source)


def _mismatch(name, bad, expected, actual, source):
    rows = "\n".join(f"  {name}[{i}] (gid {i // kernelgen.SLOTS}): emulate {expected[i]!r}, device {actual[i]!r}"
                     for i in bad[:8])
    return f"device and emulator disagree on {len(bad)} values:\n{rows}\nprogram:\n{source}"


def check_program(source, seed, directory):
    """Compile, run and emulate one program; fail (showing the source) on any disagreement."""
    kernel, grid = load_kernel(source, directory)
    known_errors = len(validation.errors())
    inputs, outputs, scalars = make_inputs(seed)
    expected = emulate(kernel, grid, inputs, outputs, scalars)
    try:
        actual = run_on_device(kernel, grid, inputs, outputs, scalars)
    except lg.CompileError as e:  # the generator uses only supported constructs
        pytest.fail(f"CompileError for a generated program:\n{e}\nprogram:\n{source}")
    # The conftest checks these too, but once per test: here they name the program (and hypothesis shrinks it).
    problem = spirv_val(kernel.spirv())
    assert problem is None, f"spirv-val rejected the module:\n{problem}\nprogram:\n{source}"
    new_errors = validation.errors()[known_errors:]
    assert not new_errors, f"Vulkan validation errors:\n{new_errors}\nprogram:\n{source}"
    assert_same(expected, actual, source)


@FUZZ_SETTINGS
@given(data=st.data())
def test_device_agrees_with_emulator(data, tmp_path_factory):
    source = kernelgen.generate(kernelgen.HypothesisChoices(data))
    seed = data.draw(st.integers(0, 2**32 - 1), label="input seed")
    check_program(source, seed, tmp_path_factory.mktemp("fuzz"))


@settings(FUZZ_SETTINGS, max_examples=50)
@given(data=st.data())
def test_generated_programs_run_in_the_emulator(data, tmp_path_factory):
    """The generator's own check, without a device: programs import, and run without errors."""
    source = kernelgen.generate(kernelgen.HypothesisChoices(data))
    kernel, grid = load_kernel(source, tmp_path_factory.mktemp("fuzz"))
    emulate(kernel, grid, *make_inputs(data.draw(st.integers(0, 2**32 - 1), label="input seed")))
