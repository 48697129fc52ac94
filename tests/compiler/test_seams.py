"""The compiler's seams: compile_kernel's cache and launch ABI, dependency_hash, choose_workgroup,
deterministic output, the pass switches and dumps, and OpLine for every statement."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import legionella as lg
from legionella.compiler import Target, choose_workgroup, compile_kernel, dependency_hash
from legionella.compiler import passes
from legionella.lang import Buffer, f32, global_id, i32, local_id, u32, vec4
from legionella.spirv import disassemble
from differential import run_both


@lg.kernel
def saxpy(a: f32, x: Buffer[f32], y: Buffer[f32]):
    i = global_id().x
    if i < len(y):
        y[i] = a * x[i] + y[i]


@lg.kernel
def abi(n: i32, grid: Buffer[f32, 2], flag: bool, v: vec4, out: Buffer[u32]):
    out[0] = u32(n) + u32(grid[0, 0])


def test_compile_kernel_is_cached_per_kernel_and_target():
    first = compile_kernel(saxpy, Target())
    assert compile_kernel(saxpy, Target()) is first
    assert compile_kernel(saxpy, Target(float64=True)) is not first


def test_launch_abi_offsets_bindings_and_read_only_buffers():
    ck = compile_kernel(abi, Target())
    params = {p.name: p for p in ck.params}
    assert ck.entry_point == "main" and ck.workgroup == (256, 1, 1)
    assert params["n"].kind == "scalar" and params["n"].offset == 32
    assert params["grid"].binding == 0 and params["grid"].shape_offset == 36 and not params["grid"].writes
    assert params["flag"].offset == 44
    assert params["v"].offset == 48
    assert params["out"].binding == 1 and params["out"].shape_offset == 64 and params["out"].writes
    assert ck.push_constant_size == 68
    text = disassemble(ck.spirv)
    assert "NonWritable" in text and "DescriptorSet 0" in text


def test_push_constant_limit_follows_the_target():
    with pytest.raises(lg.CompileError, match="push constants"):
        compile_kernel(abi, Target(max_push_constants=64))


@lg.kernel
def uses_y(a: Buffer[i32, 2]):
    g = global_id()
    a[g.y, g.x] = 1


@lg.kernel
def uses_z(a: Buffer[i32, 3]):
    a[global_id().z, local_id().y, 0] = 1


@lg.kernel(workgroup=(64, 2))
def marked(a: Buffer[i32, 3]):
    a[global_id().z, 0, 0] = 1


def test_choose_workgroup_by_highest_component():
    assert choose_workgroup(saxpy) == (256, 1, 1)
    assert choose_workgroup(uses_y) == (16, 16, 1)
    assert choose_workgroup(uses_z) == (8, 8, 4)
    assert choose_workgroup(marked) == (64, 2, 1)


def _module(tmp_path, name, helper_body, constant):
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(f"""
        from legionella.lang import Buffer, f32, global_id
        K = {constant}
        def helper(x):
            return {helper_body}
        def kern(a: Buffer[f32]):
            a[global_id().x] = helper(a[0]) + K
        """))
    import importlib.util
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return lg.kernel(module.kern)


def test_dependency_hash_covers_helpers_and_constants(tmp_path):
    base = dependency_hash(_module(tmp_path, "dep_a", "x * 2.0", 1.0))
    assert dependency_hash(_module(tmp_path, "dep_b", "x * 2.0", 1.0)) != base  # another module name
    same = _module(tmp_path, "dep_c", "x * 2.0", 1.0)
    assert dependency_hash(same) == dependency_hash(same)
    changed_helper = dependency_hash(_module(tmp_path, "dep_d", "x * 3.0", 1.0))
    changed_const = dependency_hash(_module(tmp_path, "dep_e", "x * 2.0", 2.0))
    reference = dependency_hash(_module(tmp_path, "dep_f", "x * 2.0", 1.0))
    (tmp_path / "dep_f.py").unlink()
    again = dependency_hash(_module(tmp_path, "dep_f", "x * 2.0", 1.0))
    assert reference == again
    assert len({reference, changed_helper, changed_const}) == 3


DETERMINISM_SCRIPT = """
import hashlib, sys
sys.path.insert(0, 'tests/compiler')
import test_seams, test_helpers, test_mixed
from legionella.compiler import compile_kernel, Target
kernels = [test_seams.saxpy, test_seams.optimisable, test_helpers.use_helpers, test_mixed.mixed]
print(hashlib.sha256(b''.join(compile_kernel(k, Target()).spirv for k in kernels)).hexdigest())
"""


def test_output_is_deterministic_across_processes():
    """Same source, same bytes: two fresh interpreters with different hash seeds produce the same SPIR-V."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    digests = {subprocess.run([sys.executable, "-c", DETERMINISM_SCRIPT], cwd=root, capture_output=True,
                              text=True, check=True, env=dict(os.environ, PYTHONHASHSEED=seed)).stdout.strip()
               for seed in ("1", "2")}
    assert len(digests) == 1 and len(digests.pop()) == 64


def test_opline_for_statements():
    text = disassemble(compile_kernel(saxpy, Target()).spirv)
    line = saxpy.py_func.__code__.co_firstlineno
    assert f"OpLine %" in text and f" {line + 4} " in text  # y[i] = ... is 4 lines below the decorator


def test_pass_switches():
    assert passes.enabled_passes("") == {"fold", "inline", "dce", "vectorize", "cse", "sink"}
    assert passes.enabled_passes("-cse,-inline") == {"fold", "dce", "vectorize", "sink"}
    assert passes.enabled_passes("none") == set()
    assert passes.enabled_passes("fold") == {"fold"}
    for typo in ("bogus", "fold,bogus", "-cse,-inlin", "none,fold"):  # a typo must not turn passes off unnoticed
        with pytest.raises(ValueError, match="no pass named (bogus|-inlin|none); the passes are cse, dce, fold"):
            passes.enabled_passes(typo)
    with pytest.raises(ValueError, match="mixes passes to keep with passes to turn off"):
        passes.enabled_passes("-cse,fold")


def square(x):
    return x * x


@lg.kernel
def optimisable(a: Buffer[f32], out: Buffer[f32, 2]):
    i = global_id().x
    if i < len(a):
        unused = a[i] * 3.0
        k = 2 * 8 - 16
        if k != 0:
            out[i, 0] = 100.0
        out[i, 0] = square(a[i]) + square(a[i] + 1.0)
        x = a[i]
        out[i, 1] = (x + 1.0) * (x + 1.0)


def _compile_with(kernel, spec, monkeypatch):
    monkeypatch.setenv("LEGIONELLA_PASSES", spec)
    from legionella.compiler import driver
    return driver._compile(kernel, Target())


def test_each_pass_changes_the_code_and_keeps_the_result(monkeypatch):
    sizes = {spec: len(_compile_with(optimisable, spec, monkeypatch).spirv)
             for spec in ("none", "fold", "fold,dce", "fold,dce,inline", "")}
    assert sizes["fold,dce"] < sizes["fold"]
    assert sizes["fold,dce,inline"] != sizes["fold,dce"]
    text = disassemble(_compile_with(optimisable, "", monkeypatch).spirv)
    without_cse = disassemble(_compile_with(optimisable, "-cse", monkeypatch).spirv)
    assert "OpFunctionCall" not in text  # square() was inlined
    assert text.count("OpFAdd") < without_cse.count("OpFAdd")  # x + 1.0 computed once
    a = np.linspace(-1, 1, 16).astype(np.float32)
    run_both(optimisable, 16, a, np.zeros((16, 2), np.float32), rtol=1e-6)


def test_dump_ir_and_spirv(monkeypatch, capsys):
    monkeypatch.setenv("LEGIONELLA_DUMP", "ir,spirv")
    monkeypatch.setenv("LEGIONELLA_PASSES", "")
    from legionella.compiler import driver
    driver._compile(optimisable, Target())
    err = capsys.readouterr().err
    for title in ("after frontend", "after fold", "after inline", "after dce", "after cse", "SPIR-V of"):
        assert title in err
    assert "kernel optimisable(" in err


@lg.kernel(workgroup=(512,))
def too_wide_for_the_generic_target(a: Buffer[f32]):
    a[global_id().x] = 1.0


def test_a_workgroup_beyond_the_targets_limits_is_a_compile_error_at_the_kernel():
    with pytest.raises(lg.CompileError) as info:
        compile_kernel(too_wide_for_the_generic_target, Target())
    e = info.value
    assert "has workgroup (512, 1, 1) (512 invocations); a generic Vulkan 1.1 device allows at most 256" in e.message
    assert e.filename == __file__ and e.lineno == too_wide_for_the_generic_target.lineno
