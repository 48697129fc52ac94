"""A call into the runtime from inside one of its own operations (a __del__ finalizer the garbage
collector runs mid-launch, a signal handler) is refused with a clear error instead of corrupting the
command stream, which crashed the interpreter or lost launches."""
import subprocess
import sys

import numpy as np
import pytest

import legionella as lg
import kernels as K
from subprocess_env import child_env


def test_entry_points_refuse_a_call_from_inside_the_runtime():
    device = lg.device()
    a = lg.zeros(4, dtype=np.int32)
    with device.lock:  # what a finalizer or signal handler interrupting an operation finds
        for call in (lambda: K.iota[4](a), lg.synchronize, a.numpy, lambda: lg.zeros(4),
                     lambda: a.copy_from(np.ones(4, np.int32)), device.memory_info):
            with pytest.raises(RuntimeError, match="called while this thread was inside one of its own"):
                call()
    K.iota[4](a)  # and afterwards everything works
    assert a.numpy().tolist() == [0, 1, 2, 3]


FINALIZER_LAUNCHES = """
import gc, numpy as np, legionella as lg
from legionella.lang import Buffer, f32, global_id


@lg.kernel
def add_one(y: Buffer[f32]):
    i = global_id().x
    if i < len(y):
        y[i] = y[i] + 1.0


y, z = lg.zeros(300), lg.zeros(300)
add_one[300](lg.zeros(300)); lg.synchronize()
made = 0


class Handle:
    def __init__(self):
        self.me = self  # a cycle: freed by the collector, at whatever allocation triggers it

    def __del__(self):
        global made
        add_one[300](z)  # refused when the collector runs in the middle of a launch
        made += 1


gc.set_threshold(50, 5, 5)
for it in range(1, 20001):
    Handle()
    add_one[300](y)
    if it % 50 == 0:
        assert y.numpy()[0] == it, (it, y.numpy()[0])
gc.collect()
assert y.numpy()[0] == 20000 and z.numpy()[0] == made, (y.numpy()[0], z.numpy()[0], made)
print("ok", made)
"""


def test_launches_from_finalizers_never_crash_or_lose_work(tmp_path):
    """Before the check, this crashed the interpreter (SIGSEGV in the stream) or lost launches."""
    script = tmp_path / "finalizer_launches.py"
    script.write_text(FINALIZER_LAUNCHES)
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         env=child_env(LEGIONELLA_VALIDATION="0"), timeout=300)
    assert run.returncode == 0 and run.stdout.startswith("ok"), (run.returncode, run.stdout, run.stderr[-2000:])
