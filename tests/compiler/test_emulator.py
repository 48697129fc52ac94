"""``kernel.emulate``: the host reference. Pure host tests (no Vulkan, no codegen)."""
import importlib
import sys
import textwrap
import warnings

import numpy as np
import pytest

import legionella as lg
from legionella.compiler.emulator import Emulation, normalize_grid
from legionella.lang import Buffer, f32, global_id, group_id, i32, local_id, num_groups, shared, u32, vec4, \
    workgroup_size

I32_MAX = 2**31 - 1


def emulate(kernel, grid, *args):
    return Emulation(kernel)[grid](*args)


@lg.kernel(workgroup=(8,))
def wrapping(a: Buffer[i32], b: Buffer[u32]):
    i = global_id().x
    if i < len(a):
        a[i] = a[i] * i32(3) + i32(I32_MAX)
        b[i] = b[i] - u32(5)


def test_integers_wrap_without_warnings():
    a = np.array([0, 1, I32_MAX, -5], dtype=np.int32)
    b = np.array([0, 4, 5, 6], dtype=np.uint32)
    expected_a = (a.astype(np.int64) * 3 + I32_MAX).astype(np.int32)  # astype wraps
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        emulate(wrapping, 4, a, b)
    np.testing.assert_array_equal(a, expected_a)
    np.testing.assert_array_equal(b, np.array([2**32 - 5, 2**32 - 1, 0, 1], dtype=np.uint32))


@lg.kernel(workgroup=(4,))
def floor_rules(x: Buffer[i32], y: Buffer[i32], q: Buffer[i32], r: Buffer[i32], fq: Buffer[f32], fr: Buffer[f32]):
    i = global_id().x
    if i < len(x):
        q[i] = x[i] // y[i]
        r[i] = x[i] % y[i]
        fq[i] = f32(x[i]) // f32(y[i])
        fr[i] = f32(x[i]) % f32(y[i])


def test_division_and_modulo_follow_pythons_floor_rules():
    pairs = [(7, 2), (-7, 2), (7, -2), (-7, -2), (0, 3), (-1, 5)]
    x, y = (np.array(v, dtype=np.int32) for v in zip(*pairs))
    q, r = np.zeros_like(x), np.zeros_like(x)
    fq, fr = np.zeros(len(x), np.float32), np.zeros(len(x), np.float32)
    emulate(floor_rules, len(x), x, y, q, r, fq, fr)
    assert q.tolist() == [a // b for a, b in pairs]
    assert r.tolist() == [a % b for a, b in pairs]
    assert fq.tolist() == [float(a // b) for a, b in pairs]
    assert fr.tolist() == [float(a % b) for a, b in pairs]


@lg.kernel(workgroup=(1,))
def index_types(out: Buffer[i32, 2], names: Buffer[i32]):
    total = i32(0)
    for k in range(3):
        total += k
    # i32 values times a large i32 wrap; Python ints would not.
    out[0, 0] = len(out) * i32(I32_MAX)
    out[0, 1] = out.shape[1] * i32(I32_MAX)
    names[0] = type(len(out)) is np.int32
    names[1] = type(out.shape[0]) is np.int32
    for k in range(2, 3):
        names[2] = type(k) is np.int32
    names[3] = type(global_id().x) is np.int32
    names[4] = total


def test_len_shape_and_range_are_i32():
    out = np.zeros((3, 5), dtype=np.int32)
    names = np.zeros(5, dtype=np.int32)
    emulate(index_types, 1, out, names)
    assert out[0, 0] == i32(3 * I32_MAX)
    assert out[0, 1] == i32(5 * I32_MAX)
    assert names.tolist() == [1, 1, 1, 1, 3]


def test_the_users_function_is_left_unchanged():
    emulate(index_types, 1, np.zeros((1, 2), np.int32), np.zeros(5, np.int32))
    assert index_types.py_func.__globals__ is globals()
    assert type(len([1])) is int
    with pytest.raises(RuntimeError, match="inside a kernel"):
        no_bounds_check.py_func(np.zeros(1, np.float32))


def count_up_to(n):
    """A plain helper: its range must be i32 too."""
    last = i32(0)
    for k in range(n):
        last = k
    return type(last) is np.int32


@lg.kernel(workgroup=(1,))
def uses_helpers(out: Buffer[i32]):
    out[0] = count_up_to(3)
    out[1] = helper_module.ranged(4)


def test_helpers_in_this_module_and_others_run_with_i32_builtins(tmp_path, monkeypatch):
    (tmp_path / "emulator_helper_module.py").write_text(textwrap.dedent("""
        import numpy as np

        def ranged(n):
            return sum(type(k) is np.int32 for k in range(n)) + (type(len([1])) is np.int32)
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(globals(), "helper_module", importlib.import_module("emulator_helper_module"))
    out = np.zeros(2, np.int32)
    emulate(uses_helpers, 1, out)
    assert out.tolist() == [1, 5]
    sys.modules.pop("emulator_helper_module")


@lg.kernel(workgroup=(4, 2))
def record_ids_2d(out: Buffer[i32, 3], count: Buffer[i32]):
    g, loc, grp, n, w = global_id(), local_id(), group_id(), num_groups(), workgroup_size()
    count[0] += 1
    if g.x < out.shape[0] and g.y < out.shape[1]:
        out[g.x, g.y, 0] = loc.x + 10 * loc.y
        out[g.x, g.y, 1] = grp.x + 10 * grp.y
        out[g.x, g.y, 2] = n.x + 10 * n.y + 100 * n.z
        out[g.x, g.y, 3] = w.x + 10 * w.y + 100 * w.z


def test_2d_grid_is_rounded_up_to_whole_workgroups():
    out = np.full((5, 3, 4), -1, dtype=np.int32)
    count = np.zeros(1, dtype=np.int32)
    emulate(record_ids_2d, (5, 3), out, count)
    assert count[0] == 8 * 4  # 2 x 2 groups of 4 x 2
    x, y = np.meshgrid(np.arange(5), np.arange(3), indexing="ij")
    np.testing.assert_array_equal(out[..., 0], x % 4 + 10 * (y % 2))
    np.testing.assert_array_equal(out[..., 1], x // 4 + 10 * (y // 2))
    assert (out[..., 2] == 2 + 20 + 100).all()
    assert (out[..., 3] == 4 + 20 + 100).all()


@lg.kernel(workgroup=(2, 2, 2))
def record_ids_3d(out: Buffer[i32, 3]):
    g = global_id()
    if g.x < out.shape[0] and g.y < out.shape[1] and g.z < out.shape[2]:
        out[g.x, g.y, g.z] = g.x + 10 * g.y + 100 * g.z + 1000 * local_id().z


def test_3d_grid_covers_every_point():
    out = np.full((3, 2, 5), -1, dtype=np.int32)
    emulate(record_ids_3d, (3, 2, 5), out)
    x, y, z = np.meshgrid(np.arange(3), np.arange(2), np.arange(5), indexing="ij")
    np.testing.assert_array_equal(out, x + 10 * y + 100 * z + 1000 * (z % 2))


@lg.kernel(workgroup=(4,))
def no_bounds_check(a: Buffer[f32]):
    a[global_id().x] = 1.0


@lg.kernel(workgroup=(4,))
def negative_index(a: Buffer[f32]):
    a[global_id().x - 1] = 1.0


def test_out_of_range_indices_are_errors_naming_buffer_and_invocation():
    with pytest.raises(IndexError, match=r"index 5 is out of range for buffer 'a' of shape \(5,\)") as info:
        emulate(no_bounds_check, 5, np.zeros(5, np.float32))
    assert "global_id=(5, 0, 0)" in str(info.value)
    with pytest.raises(IndexError, match="index -1 is out of range"):
        emulate(negative_index, 4, np.zeros(4, np.float32))


@lg.kernel(workgroup=(2,))
def scale(a: Buffer[vec4], s: f32, n: u32):
    i = global_id().x
    if i < len(a):
        a[i] = a[i] * s + f32(n)


def test_vector_buffers_and_scalar_conversion():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    expected = a * np.float32(0.1) + 2
    emulate(scale, 3, a, 0.1, 2)
    np.testing.assert_array_equal(a, expected)


WHERE = "kernel 'scale', "


@pytest.mark.parametrize("args, error, message", [
    ((np.zeros(4, np.float64), 1.0, 1), TypeError,
     r"parameter 'a' \(Buffer\[vec4\]\): got an array of float64 with shape \(4,\); the kernel expects "
     r"elements of vec4"),
    ((np.zeros((4, 3), np.float32), 1.0, 1), TypeError, r"parameter 'a' \(Buffer\[vec4\]\): got an array of float32 with shape \(4, 3\)"),
    (([1.0] * 4, 1.0, 1), TypeError, r"parameter 'a' \(Buffer\[vec4\]\): got a list; pass a numpy array or an "
                                     r"lg.Array"),
    ((np.zeros((1, 4), np.float32), "1", 1), TypeError, r"parameter 's' \(f32\): got '1' \(str\); pass a number"),
    ((np.zeros((1, 4), np.float32), 1.0, 1.5), TypeError, r"parameter 'n' \(u32\): got 1.5 \(float\); pass an int"),
    ((np.zeros((1, 4), np.float32), 1.0, True), TypeError, r"parameter 'n' \(u32\): got True \(bool\); pass a u32"),
    ((np.zeros((1, 4), np.float32), 1.0, -1), ValueError, r"parameter 'n' \(u32\): -1 does not fit in u32"),
])
def test_arguments_are_checked_like_the_runtime_checks_them(args, error, message):
    with pytest.raises(error, match=WHERE + message):
        emulate(scale, 1, *args)


def test_argument_count_is_checked():
    with pytest.raises(TypeError, match=r"kernel 'scale' takes 3 arguments \(a, s, n\): missing a required "
                                         r"argument: 'n'"):
        emulate(scale, 1, np.zeros((1, 4), np.float32), 1.0)
    with pytest.raises(TypeError, match=r"got an unexpected keyword argument 'w'"):
        emulate(scale, 1, np.zeros((1, 4), np.float32), 1.0, 2, w=3)


def test_rank_mismatch_names_the_parameter():
    with pytest.raises(TypeError, match=r"parameter 'out' \(Buffer\[i32, 3\]\): got a 1-D array \(shape \(4,\)\); "
                                        r"the kernel expects 3-D"):
        emulate(record_ids_3d, 1, np.zeros(4, np.int32))


@lg.kernel(workgroup=(1,))
def takes_vec3(v: lg.vec3, out: Buffer[f32]):
    out[0] = v.x + v.y * v.z


def test_vector_parameters_take_vectors_or_sequences():
    out = np.zeros(1, np.float32)
    emulate(takes_vec3, 1, lg.vec3(1, 2, 3), out)
    assert out[0] == 7
    emulate(takes_vec3, 1, (2, 2, 2), out)
    assert out[0] == 6
    with pytest.raises(TypeError, match=r"parameter 'v' \(vec3\): got \(1, 2\); pass 3 numbers"):
        emulate(takes_vec3, 1, (1, 2), out)


def unannotated(a):
    pass


def test_unannotated_parameter_is_a_compile_error():
    with pytest.raises(lg.CompileError, match="parameter 'a' of kernel 'unannotated' has no annotation"):
        emulate(lg.kernel(unannotated), 1, np.zeros(1))


@pytest.mark.parametrize("grid, expected", [(7, (7, 1, 1)), ((3, 4), (3, 4, 1)), ((1, 2, 3), (1, 2, 3)),
                                            (np.int32(5), (5, 1, 1))])
def test_grid_forms(grid, expected):
    assert normalize_grid(grid) == expected


@pytest.mark.parametrize("grid, error", [((1, 2, 3, 4), ValueError), (2.0, TypeError), ((), ValueError),
                                         (-1, ValueError), (True, TypeError), (2**31, ValueError),
                                         ((1, 2**40), ValueError)])
def test_bad_grids(grid, error):
    with pytest.raises(error, match="a launch grid"):
        normalize_grid(grid)


@lg.kernel(workgroup=(4,))
def count_in_shared(out: Buffer[i32]):
    tile = shared(i32, 2)
    tile[0] += 1
    out[global_id().x] = tile[0]


def test_shared_memory_is_one_array_per_workgroup():
    """Without barrier() the invocations of a workgroup run one after another, in local-id order."""
    out = np.zeros(8, np.int32)
    emulate(count_in_shared, 8, out)
    assert out.tolist() == [1, 2, 3, 4, 1, 2, 3, 4]



HIDDEN = {"sync": lg.barrier}


@lg.kernel(workgroup=(2,))
def hidden_barrier(out: Buffer[i32]):
    HIDDEN["sync"]()


def test_a_barrier_the_source_does_not_show_is_a_clear_error():
    with pytest.raises(RuntimeError, match=r"barrier\(\) was reached through a name kernel.emulate cannot see"):
        emulate(hidden_barrier, 2, np.zeros(2, np.int32))


def test_device_arrays_are_read_and_written_back():
    a = lg.array(np.array([1, 2, 3, 4], dtype=np.int32))
    b = lg.array(np.array([10, 20, 30, 40], dtype=np.uint32))
    emulate(wrapping, 4, a, b)
    np.testing.assert_array_equal(a.numpy(), [i32(v * 3 + I32_MAX) for v in (1, 2, 3, 4)])
    np.testing.assert_array_equal(b.numpy(), [5, 15, 25, 35])


def test_errors_in_the_kernel_name_the_invocation():
    with pytest.raises(IndexError) as info:
        emulate(negative_index, 4, np.zeros(4, np.float32))
    assert info.value.__notes__ == ["in kernel.emulate, invocation global_id=(0, 0, 0)"]


def test_helpers_from_an_enclosing_function_run_with_i32_builtins():
    def last_index(n):
        last = i32(-1)
        for k in range(n):
            last = k
        return type(last) is np.int32 and type(len([0])) is np.int32

    @lg.kernel(workgroup=(1,))
    def local_kernel(out: Buffer[i32]):
        out[0] = last_index(2)

    out = np.zeros(1, np.int32)
    emulate(local_kernel, 1, out)
    assert out[0] == 1
