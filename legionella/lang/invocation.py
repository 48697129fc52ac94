"""Which invocation is running, for the intrinsics when a kernel runs as plain Python.

``kernel.emulate`` enters an :class:`Invocation` for each invocation it runs (per thread, so that the
invocations of one workgroup can run cooperatively with barriers); the intrinsics of
:mod:`legionella.lang.intrinsics` read it. Outside any emulation they raise a clear error.
"""
import threading

_local = threading.local()


class Invocation:
    """The ids of one invocation plus the workgroup's shared state.

    ``workgroup`` is an object of the emulator's with ``shared(dtype, shape)``, ``barrier()`` and the
    subgroup operations; it is shared by all invocations of one workgroup.
    """

    def __init__(self, global_id, local_id, group_id, num_groups, workgroup_size, workgroup=None):
        self.global_id = global_id
        self.local_id = local_id
        self.group_id = group_id
        self.num_groups = num_groups
        self.workgroup_size = workgroup_size
        self.workgroup = workgroup

    def __enter__(self):
        self._outer = getattr(_local, "current", None)
        _local.current = self
        return self

    def __exit__(self, *exc):
        _local.current = self._outer


def current(what):
    """The running :class:`Invocation`; ``what`` names the intrinsic for the error outside a kernel."""
    inv = getattr(_local, "current", None)
    if inv is None:
        raise RuntimeError(f"{what} can only be called inside a kernel: launch it with kernel[grid](...) "
                           "or run it on the host with kernel.emulate[grid](...)")
    return inv
