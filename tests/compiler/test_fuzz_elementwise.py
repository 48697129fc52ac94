"""Differential fuzzing of the ``vectorize`` pass: random element-wise kernels (``kernelgen``'s element-wise
mode) give the same results on the device as in ``kernel.emulate``, integers exactly and floats within
``test_fuzz``'s tolerances, at array sizes that are and are not multiples of 4, with grids shorter and
longer than the arrays, bounds below the arrays' length, and sometimes one array passed for an input and
an output.

The pass must have fired (``elements_per_invocation == 4``) for at least :data:`MIN_VECTORIZED` of the
programs, so the test cannot pass by fuzzing only the scalar path. The same 100 programs run in every CI
run; ``LEGIONELLA_FUZZ_EXAMPLES=N`` runs N new ones (as in ``test_fuzz``).
"""
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import legionella as lg
from legionella.runtime import validation

import kernelgen
from test_fuzz import FLOAT_ATOL, FLOAT_RTOL, load_kernel

EXPLORE = "LEGIONELLA_FUZZ_EXAMPLES" in os.environ
EXAMPLES = int(os.environ.get("LEGIONELLA_FUZZ_EXAMPLES", "100"))
FUZZ_SETTINGS = settings(max_examples=EXAMPLES, deadline=None, print_blob=True, derandomize=not EXPLORE,
                         suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
MIN_VECTORIZED = 0.8  # of the programs; measured with chained comparisons generated: 100 of 100
# hypothesis-derived programs (34 of the 41 with a chain stayed scalar before the pass handled chains)
# Array sizes: around the vector width, and past a workgroup (4 ... 256) with a scalar tail.
SIZES = (1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 37, 64, 67, 130, 257)
TYPES = kernelgen.TYPES
DTYPES = {"i32": np.int32, "u32": np.uint32, "f32": np.float32}


def make_arrays(rng, size):
    """Inputs then outputs (``xi, xu, xf, oi, ou, of``): extreme and ordinary ints, bounded floats; the
    outputs start non-zero, for read-modify-write stores."""
    extremes = np.array([0, 1, -1, 2**31 - 1, -2**31, 7, -7, 65536], dtype=np.int64)

    def ints(dtype, low, high):
        values = np.where(rng.random(size) < 0.3, rng.choice(extremes, size), rng.integers(low, high, size))
        return values.astype(dtype)

    def floats():
        values = (rng.standard_normal(size) * 10).astype(np.float32)
        values[rng.random(size) < 0.1] = 0.0
        return values

    return [array() for _ in range(2) for array in (lambda: ints(np.int32, -1000, 1000),
                                                    lambda: ints(np.uint32, 0, 2000), floats)]


def make_scalars(rng, n):
    si = int(rng.choice([0, 1, -1, 7, 2**31 - 1])) if rng.random() < 0.3 else int(rng.integers(-100, 100))
    su = int(rng.choice([0, 1, 7, 2**32 - 1])) if rng.random() < 0.3 else int(rng.integers(0, 100))
    return [si, su, float(np.float32(rng.standard_normal())), n]


def draw_launch(data, non_multiple):
    """``(size, grid, n, alias)``: the arrays' length, the launch, the bound ``n`` (never past the arrays)
    and the type whose input and output get one array (or None)."""
    sizes = [s for s in SIZES if s % 4] if non_multiple else SIZES
    size = data.draw(st.sampled_from(sizes), label="size")
    grid = data.draw(st.one_of(st.just(size), st.integers(1, size), st.integers(size, size + 9)), label="grid")
    n = data.draw(st.one_of(st.just(size), st.integers(0, size)), label="n")
    alias = data.draw(st.sampled_from((None, None, *TYPES)), label="alias")
    return size, grid, n, alias


def run_both(kernel, size, grid, n, alias, seed):
    """The outputs from the emulator and from the device for one launch."""
    rng = np.random.default_rng(seed)
    arrays, scalars = make_arrays(rng, size), make_scalars(rng, n)
    if alias is not None:  # the output of that type is the input array itself
        arrays[3 + TYPES.index(alias)] = arrays[TYPES.index(alias)]
    emulated = [a.copy() for a in arrays]
    if alias is not None:
        emulated[3 + TYPES.index(alias)] = emulated[TYPES.index(alias)]
    kernel.emulate[(grid,)](*emulated, *scalars)
    on_device = {id(a): lg.array(a) for a in arrays}  # one device array per distinct host array
    kernel[(grid,)](*(on_device[id(a)] for a in arrays), *scalars)
    return emulated[3:], [on_device[id(a)].numpy() for a in arrays[3:]]


def assert_same(expected, actual, where):
    for t, e, a in zip(TYPES, expected, actual):
        if t == "f32":
            bad = np.flatnonzero(~(np.isclose(a, e, rtol=FLOAT_RTOL, atol=FLOAT_ATOL, equal_nan=True) | (a == e)))
        else:
            bad = np.flatnonzero(e != a)
        rows = "\n".join(f"  {kernelgen.OUTPUT[t]}[{i}]: emulate {e[i]!r}, device {a[i]!r}" for i in bad[:8])
        assert not bad.size, f"device and emulator disagree on {bad.size} values ({where}):\n{rows}"


def check_program(data, directory):
    """Generate, compile and run one program at three launches; returns whether the pass fired."""
    source = kernelgen.generate_elementwise(kernelgen.HypothesisChoices(data))
    kernel, _ = load_kernel(source, directory)
    known_errors = len(validation.errors())
    try:
        vectorized = kernel.compile(lg.device().target).elements_per_invocation == 4
    except lg.CompileError as e:  # the generator uses only supported constructs
        pytest.fail(f"CompileError for a generated program:\n{e}\nprogram:\n{source}")
    for non_multiple in (True, False, False):
        size, grid, n, alias = draw_launch(data, non_multiple)
        seed = data.draw(st.integers(0, 2**32 - 1), label="input seed")
        where = f"size {size}, grid {grid}, n {n}, alias {alias}, vectorized {vectorized}, seed {seed}"
        expected, actual = run_both(kernel, size, grid, n, alias, seed)
        try:
            assert_same(expected, actual, where)
        except AssertionError as e:
            raise AssertionError(f"{e}\nprogram:\n{source}") from None
    new_errors = validation.errors()[known_errors:]
    assert not new_errors, f"Vulkan validation errors:\n{new_errors}\nprogram:\n{source}"
    return vectorized


def test_elementwise_programs_agree_and_vectorize(tmp_path_factory):
    directory = tmp_path_factory.mktemp("fuzz_elementwise")
    tally = {True: 0, False: 0}

    @FUZZ_SETTINGS
    @given(data=st.data())
    def program_agrees(data):
        vectorized = check_program(data, directory)
        tally[vectorized] += 1

    program_agrees()
    total = tally[True] + tally[False]
    assert tally[True] >= MIN_VECTORIZED * total, (
        f"the vectorize pass fired for only {tally[True]} of {total} element-wise programs")
