"""Run a kernel on the device (lavapipe) and in the emulator on the same inputs, and compare.

Integers must match exactly; floats within ``rtol``/``atol`` (default: 2 ulp-ish for f32 arithmetic,
looser where a test says why, e.g. transcendental functions).
"""
import numpy as np

import legionella as lg


def run_on_device(kernel, grid, *args):
    """``kernel[grid](*args)`` on copies of the numpy arrays in ``args``; returns them read back."""
    device_args = [lg.array(a) if isinstance(a, np.ndarray) else a for a in args]
    kernel[grid](*device_args)
    return [d.numpy() for d, a in zip(device_args, args) if isinstance(a, np.ndarray)]


def run_emulated(kernel, grid, *args):
    """``kernel.emulate[grid](*args)`` on copies of the numpy arrays in ``args``; returns them."""
    host_args = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    kernel.emulate[grid](*host_args)
    return [a for a in host_args if isinstance(a, np.ndarray)]


def run_both(kernel, grid, *args, rtol=1e-6, atol=1e-6):
    """Launch ``kernel[grid](*args)`` and ``kernel.emulate[grid](*args)`` on copies of the numpy arrays
    in ``args``; assert every array ends equal; return the device's arrays."""
    device_args = [lg.array(a) if isinstance(a, np.ndarray) else a for a in args]
    host_args = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    kernel[grid](*device_args)
    kernel.emulate[grid](*host_args)
    results = []
    for d, h in zip(device_args, host_args):
        if isinstance(h, np.ndarray):
            got = d.numpy()
            if h.dtype.kind in "iub" or h.dtype.names:
                np.testing.assert_array_equal(got, h)
            else:
                np.testing.assert_allclose(got, h, rtol=rtol, atol=atol)
            results.append(got)
    return results
