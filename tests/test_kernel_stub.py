"""The Kernel stub's own checks: the workgroup option, ids, and calling it like a function."""
import pytest

import legionella as lg
from legionella.lang import Buffer, f32, global_id


def fill(a: Buffer[f32]):
    a[global_id().x] = 1.0


@pytest.mark.parametrize("workgroup, expected", [(64, (64,)), ((8, 8), (8, 8)), ((4, 4, 4), (4, 4, 4))])
def test_workgroup_option_is_normalised(workgroup, expected):
    assert lg.kernel(fill, workgroup=workgroup).workgroup == expected


@pytest.mark.parametrize("workgroup", [0, (0,), (True,), True, (1, 2, 3, 4), (), [64], (64.0,), "64", (-1,)])
def test_bad_workgroup_names_the_definition(workgroup):
    with pytest.raises(ValueError, match=r"test_kernel_stub\.py:\d+: workgroup must be a tuple of 1 to 3 "
                                         r"positive ints, like workgroup=\(256,\); got "):
        lg.kernel(fill, workgroup=workgroup)


def test_calling_a_kernel_like_a_function_says_how_to_launch_it():
    k = lg.kernel(fill)
    with pytest.raises(TypeError, match=r"fill\[n\]\(\.\.\.\) on the device, or fill\.emulate\[n\]"):
        k(None)
    assert k.id.startswith(f"{__name__}:fill#") and k.py_func is fill
