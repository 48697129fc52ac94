"""``dispatch_spirv``: the low-level entry point the SPIR-V emitter's device tests use."""
import shutil
import struct

import numpy as np
import pytest

import legionella.runtime as rt
import spirv_kernels as sk

pytestmark = pytest.mark.skipif(shutil.which("spirv-as") is None,
                                reason="spirv-as (Debian spirv-tools) assembles these modules")


def test_dispatch_spirv_binds_buffers_in_order_and_pushes_constants():
    k = sk.axpy()
    y = np.arange(100, dtype=np.float32)
    x = np.full(100, 3, np.float32)
    push = struct.pack("<3I4x3I4x", 0, 0, 0, 2, 1, 1) + struct.pack("<iif", 100, 100, 0.5)
    y_out, x_out = rt.dispatch_spirv(k.spirv, [y, x], push, groups=(2, 1, 1))
    np.testing.assert_array_equal(y_out, y + 1.5)
    np.testing.assert_array_equal(x_out, x)
    assert y_out is not y  # the inputs are not modified


def test_dispatch_spirv_respects_the_group_count():
    k = sk.iota()
    push = struct.pack("<3I4x3I4x", 0, 0, 0, 1, 1, 1) + struct.pack("<i", 1000)
    out, = rt.dispatch_spirv(k.spirv, [np.full(1000, -1, np.int32)], push, groups=(1, 1, 1))
    np.testing.assert_array_equal(out[:64], np.arange(64))
    assert (out[64:] == -1).all()


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_dispatch_spirv_refuses_too_many_groups(axis):
    # One more group than this device allows along one axis (lavapipe: 65,536; an NVIDIA GPU: 2**31 in x).
    limits = rt.device().limits["maxComputeWorkGroupCount"]
    groups = tuple(limit + 1 if i == axis else 1 for i, limit in enumerate(limits))
    with pytest.raises(ValueError, match=r"groups \(.*\) exceed this device's maxComputeWorkGroupCount"):
        rt.dispatch_spirv(sk.iota().spirv, [np.zeros(4, np.int32)], groups=groups)
