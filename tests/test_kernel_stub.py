"""The Kernel stub: the workgroup option, what the constructor reads from the function, ids, and calling it
like a function."""
import inspect

import pytest

import legionella as lg
from legionella.kernel import kernel_id
from legionella.lang import Buffer, f32, global_id


def fill(a: Buffer[f32]):
    a[global_id().x] = 1.0


@pytest.mark.parametrize("workgroup, expected", [(64, (64,)), ((8, 8), (8, 8)), ((4, 4, 4), (4, 4, 4))])
def test_workgroup_option_is_normalised(workgroup, expected):
    assert lg.kernel(fill, workgroup=workgroup).workgroup == expected


@pytest.mark.parametrize("workgroup", [0, (0,), (True,), True, (1, 2, 3, 4), (), (64.0,), "64", (-1,)])
def test_bad_workgroup_names_the_definition(workgroup):
    with pytest.raises(ValueError, match=r"test_kernel_stub\.py:\d+: workgroup must be a tuple of 1 to 3 "
                                         r"positive ints, like workgroup=\(256,\); got "):
        lg.kernel(fill, workgroup=workgroup)


def test_calling_a_kernel_like_a_function_says_how_to_launch_it():
    k = lg.kernel(fill)
    with pytest.raises(TypeError, match=r"fill\[n\]\(\.\.\.\) on the device, or fill\.emulate\[n\]"):
        k(None)
    assert k.id.startswith(f"{__name__}:fill#") and k.py_func is fill


def test_what_the_constructor_is_not_given_is_read_from_the_function():
    k = lg.Kernel(fill, "def fill(a): ...\n")
    assert (k.filename, k.module, k.lineno, k.qualname) == (__file__, __name__, fill.__code__.co_firstlineno,
                                                            "fill")
    assert (k.__name__, k.__doc__, k.options, k.workgroup) == ("fill", None, {}, None)
    assert k.__wrapped__ is fill and str(inspect.signature(k)) == str(inspect.signature(fill))


def test_what_the_constructor_is_given_wins_over_the_function():
    k = lg.Kernel(fill, source="def fill(a): ...\n", options={"workgroup": (8,)}, filename="/elsewhere/m.py",
                  lineno=3, module="elsewhere", qualname="Outer.fill")
    assert (k.filename, k.module, k.lineno, k.qualname, k.workgroup) == ("/elsewhere/m.py", "elsewhere", 3,
                                                                         "Outer.fill", (8,))
    assert k.id == kernel_id("elsewhere", "Outer.fill", "def fill(a): ...\n", {"workgroup": (8,)})


def test_the_id_hashes_source_and_options():
    ids = {lg.Kernel(fill, source, options).id for source, options in [
        ("def fill(a): ...\n", {}), ("def fill(a): ...\n", {}), ("def fill(b): ...\n", {}),
        ("def fill(a): ...\n", {"workgroup": (8,)})]}
    assert len(ids) == 3


def test_a_bad_workgroup_given_to_the_constructor_is_refused_where_it_is_used():
    k = lg.Kernel(fill, "def fill(a): ...\n", {"workgroup": (0,)})
    with pytest.raises(ValueError, match=r"test_kernel_stub\.py:\d+: workgroup must be a tuple of 1 to 3 "
                                         r"positive ints, like workgroup=\(256,\); got \(0,\)"):
        k.compile()
