"""Small host-API mistakes get a TypeError/ValueError saying what to write instead."""
import numpy as np
import pytest

import legionella as lg
from legionella.runtime import stream

import kernels as K


def test_emulate_without_a_grid_says_to_give_one():
    with pytest.raises(TypeError, match=r"^kernel\.emulate runs over a grid: write iota\.emulate\[n\]\(\.\.\.\) "):
        K.iota.emulate(np.zeros(4, np.int32))


def test_a_kernel_called_without_a_grid_says_to_give_one():
    with pytest.raises(TypeError, match=r"iota\[n\]\(\.\.\.\) on the device, or iota\.emulate\[n\]\(\.\.\.\)"):
        K.iota(lg.zeros(4, dtype=np.int32))


@pytest.mark.parametrize("value", ["abc", "-1", "0", "", "nan", " "])
def test_a_bad_timeout_is_a_value_error_naming_it(monkeypatch, value):
    monkeypatch.setenv("LEGIONELLA_TIMEOUT", value)
    with pytest.raises(ValueError, match=r"^LEGIONELLA_TIMEOUT must be a positive number of seconds, like "
                                         rf"LEGIONELLA_TIMEOUT=120 \(or inf\); got {value!r}$"):
        stream.timeout_seconds()


@pytest.mark.parametrize("value, seconds", [(None, 60.0), ("2.5", 2.5), (" 7 ", 7.0), ("inf", stream.MAX_TIMEOUT_S),
                                            ("1e30", stream.MAX_TIMEOUT_S)])
def test_a_good_timeout_is_read_in_seconds(monkeypatch, value, seconds):
    if value is None:
        monkeypatch.delenv("LEGIONELLA_TIMEOUT", raising=False)
    else:
        monkeypatch.setenv("LEGIONELLA_TIMEOUT", value)
    assert stream.timeout_seconds() == seconds
    assert int(seconds * 1e9) < 2**64  # what the wait is given, in nanoseconds as a uint64


def test_a_bad_timeout_fails_when_a_device_opens_not_at_a_long_wait(monkeypatch):
    current = lg.device()
    monkeypatch.setenv("LEGIONELLA_TIMEOUT", "abc")
    fresh = lg.runtime.Device(current.index, current.physical, current.info)
    with pytest.raises(ValueError, match="LEGIONELLA_TIMEOUT"):
        fresh.open()
    assert not fresh.opened
    monkeypatch.setenv("LEGIONELLA_TIMEOUT", "inf")  # waits without a limit, in effect
    with lg.use_device(fresh.open()):
        a = lg.zeros(4, dtype=np.int32)
        K.iota[4](a)
        assert a.numpy().tolist() == [0, 1, 2, 3]
