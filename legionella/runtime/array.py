"""``lg.Array``: an n-dimensional array in device memory, and the functions that make one."""
import math

import numpy as np

from . import vkdevice


def _shape(shape):
    shape = (shape,) if np.isscalar(shape) else tuple(shape)
    if not all(isinstance(n, (int, np.integer)) and n >= 0 for n in shape):
        raise ValueError(f"an array shape is a tuple of non-negative ints, got {shape!r}")
    return tuple(int(n) for n in shape)


class Array:
    """An array in device memory with numpy's ``shape``, ``dtype``, ``size`` and ``nbytes``.

    Launches that use it are asynchronous; ``numpy()`` waits for the ones that write it, and deleting
    it frees its memory only once the device is done with it.

    >>> import numpy as np, legionella as lg
    >>> a = lg.array(np.arange(4, dtype=np.float32))   # doctest: +SKIP
    >>> a.numpy()                                      # doctest: +SKIP
    array([0., 1., 2., 3.], dtype=float32)
    """
    __slots__ = ("device", "shape", "dtype", "size", "nbytes", "allocation", "binding", "serial", "__weakref__")

    def __init__(self, shape, dtype, device=None):
        self.device = vkdevice.device() if device is None else vkdevice.find_device(device, "device=").open()
        self.shape = _shape(shape)
        self.dtype = np.dtype(dtype)
        self.size = math.prod(self.shape)  # Python ints: a product past 2**63 must not wrap to a small size
        self.nbytes = self.size * self.dtype.itemsize
        self.allocation = None
        self.serial = 0  # the last command-buffer serial that uses this array
        self.allocation = allocation = self.device.allocate(self.nbytes)
        # (VkBuffer, offset, range) for descriptor sets; also the array's key in hazard tracking.
        self.binding = (allocation.block.buffer, allocation.offset, max(-(-self.nbytes // 4) * 4, 4))

    @property
    def ndim(self):
        """The number of dimensions, ``len(shape)``."""
        return len(self.shape)

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of a 0-d array")
        return self.shape[0]

    def numpy(self):
        """A numpy copy of the contents; waits for pending launches that use the array."""
        return self.device.read(self)

    def __array__(self, dtype=None, copy=None):
        if copy is False:
            raise ValueError("an lg.Array lives in device memory: a numpy array of it is always a copy "
                             "(np.asarray(a) or a.numpy(), not copy=False)")
        out = self.numpy()
        return out if dtype is None else out.astype(dtype)

    def copy_from(self, data):
        """Overwrite the contents with ``data`` (same shape; converted to this dtype like ``np.asarray``)."""
        data = np.asarray(data, dtype=self.dtype, order="C")  # ascontiguousarray would make 0-d data 1-d
        if data.shape != self.shape:
            raise ValueError(f"copy_from: shape {data.shape} does not match the array's shape {self.shape}")
        self.device.write(self, data)

    def __repr__(self):
        return f"lg.Array(shape={self.shape}, dtype={self.dtype}, device={self.device.name!r})"

    def __del__(self):
        if getattr(self, "allocation", None) is not None:
            self.device.release(self.allocation, self.serial)


def array(data, dtype=None, device=None):
    """A device copy of ``data`` (anything ``np.asarray`` takes). ``device`` (here and in :func:`empty`,
    :func:`zeros`, :func:`full`) is a Device, an index or a name substring, as for ``lg.set_device``;
    None means the current device.

    >>> a = array([1.0, 2.0, 3.0], dtype="float32")   # doctest: +SKIP
    """
    host = np.asarray(data, dtype=dtype, order="C")  # keeps a 0-d array 0-d, as numpy does
    out = Array(host.shape, host.dtype, device)
    out.device.write(out, host)
    return out


def empty(shape, dtype=np.float32, device=None):
    """An array whose contents are whatever the memory held (fastest; fill it before reading)."""
    return Array(shape, dtype, device)


def zeros(shape, dtype=np.float32, device=None):
    """An array of zeros: ``lg.zeros(1024)``, ``lg.zeros((64, 64), dtype=np.int32)``."""
    return full(shape, 0, dtype, device)


def full(shape, fill_value, dtype=None, device=None):
    """An array filled with ``fill_value``: ``lg.full(8, 1.5)``; dtype defaults to the value's (as numpy).

    A scalar value is written on the device's side of the copy, so no host array of the full size is
    made; the device memory is allocated first (``lg.OutOfMemoryError`` when it does not fit)."""
    value = np.asarray(fill_value, dtype=dtype)
    if value.ndim:  # an array broadcast over the shape, as np.full does
        return array(np.full(_shape(shape), value, dtype=dtype), device=device)
    out = Array(shape, value.dtype, device)
    out.device.fill(out, value)
    return out
