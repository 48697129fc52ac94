"""One array passed for several buffer parameters, one of them written: the aliased variant.

SPIR-V lets a driver assume that storage-buffer variables not decorated ``Aliased`` never overlap, so
with ``int_division[n](d, a, a, a)`` NVIDIA's compiler reuses its load of ``x[i]`` after the store to
``q[i]``. The launcher then uses the kernel compiled with ``aliased=True``, every buffer variable (the
vectorize pass's vec4 views included) decorated ``Aliased``.

On lavapipe the results below are right with either variant (llvmpipe does not reorder loads across
those stores), so the differential tests here cannot tell the variants apart on this machine; the H200
run does. What fails here if the runtime stops choosing the aliased variant is
``test_the_launcher_uses_the_aliased_variant_exactly_when_a_written_array_is_passed_twice``, and what
fails if the compiler stops decorating is ``test_the_aliased_variant_decorates_every_storage_buffer``.
"""
import numpy as np
import pytest

import legionella as lg
from legionella.compiler import compile_kernel
from legionella.lang import Buffer, f32, global_id, i32
from legionella.runtime.launch import Launcher
from legionella.spirv import Op, enums, parse

from test_vectorize import int_division, ints

SC = enums.StorageClass
DEC = enums.Decoration
SIZES = (1, 4, 5, 257, 1023)


@lg.kernel(workgroup=(64,))
def read_after_write(src: Buffer[i32], dst: Buffer[i32], out: Buffer[i32]):
    i = global_id().x
    if i < len(src) and i < len(dst) and i < len(out):
        dst[i] = src[i] * 2 + 1
        out[i] = src[i] + 3  # src[i] again, after the store: 2 * src + 4 when dst is src


@lg.kernel(workgroup=(64,))
def add(x: Buffer[f32], y: Buffer[f32], out: Buffer[f32]):
    i = global_id().x
    if i < len(out):
        out[i] = x[i] + y[i]


@lg.kernel(workgroup=(64,))
def running_sum(x: Buffer[i32], y: Buffer[i32]):
    """A loop: never vectorized, so the aliased variant has only the scalar views."""
    i = global_id().x
    if i < len(x):
        for k in range(3):
            y[i] = y[i] + x[i]


# ---- the compiler ----------------------------------------------------------------------------------
def storage_buffers(spirv):
    """``({variable id: name}, {id: set of its decorations}, {id: NonWritable member?})`` of a module's
    StorageBuffer variables."""
    module = parse(spirv)
    names, decorations, pointee = {}, {}, {}
    for ins in module.instructions:
        if ins.opcode == Op.Name:
            names[ins.operands[0].value] = ins.operands[1].value
        elif ins.opcode == Op.Decorate:
            decorations.setdefault(ins.operands[0].value, set()).add(ins.operands[1].value)
        elif ins.opcode == Op.MemberDecorate and ins.operands[2].value == DEC.NonWritable:
            decorations.setdefault(ins.operands[0].value, set()).add(DEC.NonWritable)
        elif ins.opcode == Op.TypePointer:
            pointee[ins.result] = ins.operands[1].value
    variables = [ins for ins in module.instructions
                 if ins.opcode == Op.Variable and ins.operands[0].value == SC.StorageBuffer]
    return {v.result: (names[v.result], decorations.get(v.result, set()),
                       DEC.NonWritable in decorations.get(pointee[v.result_type], set())) for v in variables}


@pytest.mark.parametrize("kernel, vectorize, expected", [
    (int_division, True, {"x", "q", "r", "x.vec4", "q.vec4", "r.vec4"}),
    (int_division, False, {"x", "q", "r"}),
    (running_sum, True, {"x", "y"}),
])
def test_the_aliased_variant_decorates_every_storage_buffer(kernel, vectorize, expected):
    target = lg.device().target
    aliased = storage_buffers(compile_kernel(kernel, target, vectorize=vectorize, aliased=True).spirv)
    assert {name for name, _, _ in aliased.values()} == expected
    for name, decorations, non_writable in aliased.values():
        assert DEC.Aliased in decorations, name
        assert not non_writable, f"{name}: NonWritable would let the driver cache memory another parameter writes"
    default = storage_buffers(compile_kernel(kernel, target, vectorize=vectorize).spirv)
    assert {name for name, _, _ in default.values()} == expected
    assert not any(DEC.Aliased in decorations for _, decorations, _ in default.values())
    assert any(non_writable for _, _, non_writable in default.values())  # x is read-only there


def test_the_aliased_variant_is_cached_apart_and_still_vectorized():
    target = lg.device().target
    aliased = compile_kernel(int_division, target, aliased=True)
    assert compile_kernel(int_division, target, aliased=True) is aliased
    assert compile_kernel(int_division, target) is not aliased
    assert aliased.elements_per_invocation == compile_kernel(int_division, target).elements_per_invocation == 4


def loads_through(spirv, name):
    """How many OpLoads read through the buffer variable called ``name``."""
    module = parse(spirv)
    var = next(i.operands[0].value for i in module.instructions
               if i.opcode == Op.Name and i.operands[1].value == name)
    chains = {i.result for i in module.instructions if i.opcode == Op.AccessChain and i.operands[0].value == var}
    return sum(1 for i in module.instructions if i.opcode == Op.Load and i.operands[0].value in chains)


@pytest.mark.parametrize("vectorize, name", [(False, "src"), (True, "src.vec4")])
def test_no_pass_reuses_a_load_across_a_store(vectorize, name):
    """``src[i]`` is read before and after the store to ``dst[i]``: the IR passes (CSE in particular)
    must keep both loads, since ``dst`` may be ``src``."""
    compiled = compile_kernel(read_after_write, lg.device().target, vectorize=vectorize, aliased=True)
    assert compiled.elements_per_invocation == (4 if vectorize else 1)
    assert loads_through(compiled.spirv, name) == 2


# ---- the launcher ----------------------------------------------------------------------------------
def dispatched_pipelines(monkeypatch):
    """The pipelines the current device's stream records, in order (the real dispatch still runs)."""
    stream = lg.device().stream
    seen, dispatch = [], stream.dispatch

    def spy(pipeline, *rest):
        seen.append(pipeline)
        return dispatch(pipeline, *rest)

    monkeypatch.setattr(stream, "dispatch", spy)
    return seen


@pytest.mark.parametrize("kernel, pattern, aliased", [
    (read_after_write, "abc", False),
    (read_after_write, "aac", True),  # src is dst (written)
    (read_after_write, "aba", True),  # src is out (written)
    (read_after_write, "abb", True),  # dst is out, both written
    (read_after_write, "aaa", True),
    (add, "aac", False),  # x is y: both only read
    (add, "aba", True),  # x is out
])
def test_the_launcher_uses_the_aliased_variant_exactly_when_a_written_array_is_passed_twice(
        monkeypatch, kernel, pattern, aliased):
    dtype = np.float32 if kernel is add else np.int32
    arrays = {name: lg.zeros(300, dtype=dtype) for name in set(pattern)}
    launcher = Launcher(kernel, lg.device())
    seen = dispatched_pipelines(monkeypatch)
    launcher.launch((300, 1, 1), tuple(arrays[name] for name in pattern))
    if aliased:
        assert launcher.aliased_variant is not None and launcher.aliased_variant.aliased
        assert seen == [launcher.aliased_variant.pipeline]
        assert launcher.aliased_variant.pipeline is not launcher.pipeline
    else:
        assert launcher.aliased_variant is None
        assert seen == [launcher.pipeline]


# ---- results ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", SIZES)
def test_int_division_with_one_array_for_x_q_and_r(n):
    host = ints(n)
    device = lg.array(host)
    int_division[n](np.int32(-7), device, device, device)
    int_division.emulate[n](np.int32(-7), host, host, host)
    np.testing.assert_array_equal(device.numpy(), host)


@pytest.mark.parametrize("pattern", ["aac", "aba", "abb", "aaa"])
@pytest.mark.parametrize("n", SIZES)
def test_read_after_write_through_another_parameter(pattern, n):
    hosts = {name: ints(n) for name in sorted(set(pattern))}
    devices = {name: lg.array(a) for name, a in hosts.items()}
    read_after_write[n](*(devices[name] for name in pattern))
    read_after_write.emulate[n](*(hosts[name] for name in pattern))
    for name in hosts:
        np.testing.assert_array_equal(devices[name].numpy(), hosts[name])


def test_unaligned_and_aliased_use_the_aliased_one_element_variant():
    """The aliased variant has its own one-element fallback (forced as in test_vectorize)."""
    launcher = Launcher(read_after_write, lg.device())
    variant = launcher.aliased_launcher()
    variant.alignment = 1 << 40
    keep = lg.zeros(4)  # so the arrays below do not start at offset 0 of their block
    host, other = ints(257), ints(257)
    a, b = lg.array(host), lg.array(other)
    launcher.launch((257, 1, 1), (a, a, b))
    read_after_write.emulate[257](host, host, other)
    np.testing.assert_array_equal(a.numpy(), host)
    np.testing.assert_array_equal(b.numpy(), other)
    assert variant.fallback is not None and variant.fallback.elements == 1 and variant.fallback.aliased
    assert launcher.fallback is None
    assert keep.size == 4


def test_a_loop_kernel_with_one_array_twice():
    host = ints(100)
    device = lg.array(host)
    running_sum[100](device, device)
    running_sum.emulate[100](host, host)
    np.testing.assert_array_equal(device.numpy(), host)
