"""Barriers between dependent commands, through vkCmdPipelineBarrier2 where the device has
synchronization2 and vkCmdPipelineBarrier where it does not (runtime/barriers.py)."""
import numpy as np
import pytest

import legionella as lg
import kernels as K


@pytest.mark.parametrize("synchronization2", [True, False], ids=["barrier2", "barrier"])
def test_dependent_launches_and_copies_see_each_others_writes(synchronization2, device_with_features):
    if synchronization2 and not lg.device().info.features.get("synchronization2"):
        pytest.skip(f"{lg.device().name} lacks synchronization2")
    # Without the feature enabled, a vkCmdPipelineBarrier2 would be a validation error, failing the test.
    with lg.use_device(device_with_features(synchronization2=synchronization2)):
        a = lg.zeros(4096, dtype=np.int32)
        b = lg.zeros(4096, dtype=np.int32)
        for _ in range(300):  # more than one command buffer's worth, so start barriers are recorded too
            K.inc_into[4096](b, a)
            K.inc_into[4096](a, b)
        b.copy_from(np.full(4096, 7, dtype=np.int32))  # a write the next launch must wait for
        K.inc_into[4096](a, b)
        assert (a.numpy() == 8).all()
