"""Submitting and waiting through a timeline semaphore, or through fences where the device has no
timeline semaphores (runtime/completion.py)."""
import numpy as np
import pytest

import legionella as lg
import kernels as K
from test_launch import lcg

KINDS = pytest.mark.parametrize("timeline", [True, False], ids=["timeline", "fences"])


@pytest.fixture
def device(timeline, device_with_features):
    if timeline and not lg.device().info.features.get("timelineSemaphore"):
        pytest.skip(f"{lg.device().name} lacks timeline semaphores")
    device = device_with_features(timelineSemaphore=timeline)
    assert type(device.stream.completion).__name__ == ("TimelineCompletion" if timeline else "FenceCompletion")
    return device


@KINDS
def test_batches_in_flight_replays_and_read_backs(device):
    with lg.use_device(device):
        a = lg.zeros(4096, dtype=np.int32)
        b = lg.zeros(4096, dtype=np.int32)
        for _ in range(10):  # more batches than may be in flight at once: the oldest are waited for
            K.inc_into[4096](b, a)
            K.inc_into[4096](a, b)
            device.stream.flush()
        replays = device.stream.replays
        for _ in range(5):  # one launch and a sync: submitted again without recording
            K.inc_into[4096](b, a)
            lg.synchronize()
        assert device.stream.replays >= replays + 3  # the first two may record: work was in flight
        assert (a.numpy() == 20).all() and (b.numpy() == 21).all()


@KINDS
def test_a_wait_longer_than_the_timeout_raises_and_a_later_wait_succeeds(device, monkeypatch):
    with lg.use_device(device):
        out = lg.zeros(1 << 14 if device.info.device_type == 4 else 1 << 24, dtype=np.uint32)
        K.spin[out.size](out, 65535)
        monkeypatch.setenv("LEGIONELLA_TIMEOUT", "0.001")
        with pytest.raises(TimeoutError, match="LEGIONELLA_TIMEOUT"):
            lg.synchronize()
        monkeypatch.setenv("LEGIONELLA_TIMEOUT", "120")
        lg.synchronize()
        assert (out.numpy() == lcg(65535)).all()


CTRL_C_DURING_A_WAIT = """
import os, signal, threading, time
import numpy as np
import legionella as lg
import kernels as K
out = lg.zeros(1 << 18, dtype=np.uint32)
K.spin[out.size](out, 10); lg.synchronize()
K.spin[out.size](out, 65535)  # seconds on lavapipe
started = time.monotonic()
threading.Timer(0.2, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
try:
    lg.synchronize()
    print("not interrupted")
except KeyboardInterrupt:
    print(f"interrupted after {time.monotonic() - started:.2f} s")
lg.synchronize()  # the work was not lost
print("then finished", (out.numpy() == out.numpy()[0]).all())
"""


def test_ctrl_c_interrupts_a_long_wait_at_once():
    """The blocking wait runs in 0.1 s slices, so a KeyboardInterrupt gets through during a long kernel
    (it used to wait for the kernel to finish)."""
    if lg.device().info.device_type != 4:
        pytest.skip("a kernel that runs for seconds is a lavapipe one")
    import os
    import subprocess
    import sys

    from subprocess_env import child_env
    run = subprocess.run([sys.executable, "-c", CTRL_C_DURING_A_WAIT], capture_output=True, text=True,
                         env=child_env(os.path.dirname(__file__), LEGIONELLA_VALIDATION="0"), timeout=300)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("interrupted after") and float(lines[0].split()[2]) < 1.0, run.stdout
    assert lines[1] == "then finished True"
