"""Cooperative emulation of a workgroup, for kernels that use ``barrier()`` or subgroup operations.

Each invocation runs in its own thread, but only one runs at a time: a baton (one lock per invocation)
passes from an invocation that blocks (at a barrier or a subgroup operation) or finishes to the next
ready one, lowest local index first. So results are deterministic, atomics never race, and between two
barriers the invocations run in the device's numbering order, exactly like the sequential path.

* Subgroups are ``S`` consecutive local indices, x fastest, ``S`` being the subgroup size of the
  device ``kernel.compile()`` would use now (the current device's, else 32).
* When every unfinished invocation waits, each subgroup with lanes at a subgroup operation completes
  the one at the earliest source position, with the lanes waiting there as its active lanes: so
  ``if lane < 4: subgroup_add(x)`` sums 4 lanes, and a uniform operation after the branch waits for the
  lanes that took it, as on a device that reconverges after a branch (lavapipe, measured). Lanes that
  finished (returned) are inactive. Not modelled: lanes of one subgroup reaching the same operation in
  different iterations of a loop are taken as one group.
* Else ``barrier()`` releases every invocation waiting at a barrier.

Differences from a device, by design: shared memory starts zero-filled (undefined on a device); a
barrier some invocations skip (by returning early, or under a condition the compiler cannot see) is
released by the rest (undefined on a device); float reductions (``subgroup_add``, float
``atomic_add``) sum in lane/program order, a device in its own.
"""
import _thread
import ast
import functools
import sys
import threading

import numpy as np

from ..lang import intrinsics as lang
from ..lang.types import Vector
from .emulator import Workgroup
from .resolve import closure, resolve_attribute

# The intrinsics whose invocations must meet: a kernel that reaches one of them runs cooperatively.
COOPERATIVE_INTRINSICS = (lang.barrier, lang.subgroup_add, lang.subgroup_min, lang.subgroup_max,
                          lang.subgroup_broadcast, lang.subgroup_ballot, lang.subgroup_size)
_REDUCTIONS = {"add": np.add, "min": np.minimum, "max": np.maximum}


def needs_cooperation(kernel):
    """Whether the kernel or a helper it reaches refers to barrier() or a subgroup operation."""
    sources, _ = closure(kernel)
    return any(_refers_to_cooperative(src) for src in sources)


def _refers_to_cooperative(src):
    for node in ast.walk(src.tree):
        try:
            if isinstance(node, ast.Name):
                obj = src.lookup(node.id)
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                obj = resolve_attribute(src.lookup(node.value.id), node.attr)
            else:
                continue
        except KeyError:
            continue
        if any(obj is f for f in COOPERATIVE_INTRINSICS):
            return True
    return False


def emulated_subgroup_size():
    """The subgroup size the emulation uses: the one of the target ``kernel.compile()`` picks now."""
    from ..kernel import _current_target
    return _current_target().subgroup_size


class _Aborted(BaseException):
    """Unwinds an invocation's thread when another invocation failed (never seen by user code)."""


class CooperativeWorkgroup(Workgroup):
    """A workgroup whose invocations meet at barriers and subgroup operations (see the module doc)."""

    def __init__(self, group_id, num_groups, size):
        super().__init__(group_id, num_groups, size)
        self.subgroup_size = emulated_subgroup_size()
        self._tls = threading.local()  # which invocation (local index) the calling thread runs
        n = size[0] * size[1] * size[2]
        self._state = ["ready"] * n  # per invocation: ready, barrier, subgroup or done
        self._posted = [None] * n  # (op, value, lane, source position) of a lane at a subgroup operation
        self._results = [None] * n
        self._error = None
        self._aborted = False
        self._finished = threading.Event()
        self._gates = [threading.Lock() for _ in range(n)]  # held while the invocation may not run
        for gate in self._gates:
            gate.acquire()

    # ---- running ---------------------------------------------------------------------------------
    def run(self, function, args):
        """Run every invocation to completion; re-raise the first invocation's error."""
        for k, invocation in enumerate(self.invocations()):
            # Bare threads: threading.Thread.start() waits for each thread to come up, which doubled the
            # cost of a workgroup. Every thread ends right after its invocation finished or was aborted.
            _thread.start_new_thread(self._invocation, (k, invocation, function, args))
        self._gates[0].release()
        self._finished.wait()
        if self._error is not None:
            raise self._error

    def _invocation(self, k, invocation, function, args):
        self._gates[k].acquire()
        if self._aborted:
            return
        self._tls.index = k
        try:
            with invocation, np.errstate(over="ignore", divide="ignore", invalid="ignore"):
                function(*args)
        except _Aborted:
            return
        except BaseException as e:  # anything, even SystemExit: a thread that died silently would hang the rest
            e.add_note(f"in kernel.emulate, invocation global_id={invocation.global_id}")
            self._abort(e)
            return
        self._state[k] = "done"
        self._pass_baton()

    def _block(self, state):
        """Park the calling invocation in ``state`` and run others until it is released."""
        k = self._tls.index
        self._state[k] = state
        self._pass_baton()
        if not self._aborted:
            self._gates[k].acquire()
        if self._aborted:
            raise _Aborted()

    def _pass_baton(self):
        """Wake the next ready invocation, completing subgroup operations and barriers when none is."""
        following = self._next_ready()
        if following is None:
            following = self._release()
        if following is None:  # every invocation has finished
            self._finished.set()
        else:
            self._gates[following].release()

    def _next_ready(self):
        return next((k for k, s in enumerate(self._state) if s == "ready"), None)

    def _release(self):
        """With every unfinished invocation waiting: in each subgroup with lanes at a subgroup operation,
        complete the operation at the earliest source position (its lanes are the active ones, as on a
        device that reconverges after a branch); else release the barrier. The lowest ready invocation,
        or None when all have finished."""
        n, size = len(self._state), self.subgroup_size
        for start in range(0, n, size):
            waiting = [k for k in range(start, min(start + size, n)) if self._state[k] == "subgroup"]
            if waiting:
                site = min(self._posted[k][3] for k in waiting)
                self._complete_subgroup(start, [k for k in waiting if self._posted[k][3] == site])
        if self._next_ready() is None:
            for k, state in enumerate(self._state):
                if state == "barrier":
                    self._state[k] = "ready"
        return self._next_ready()

    def _abort(self, error):
        if self._error is None:
            self._error = error
        self._aborted = True
        for k, state in enumerate(self._state):
            if state != "done" and k != getattr(self._tls, "index", None):
                self._gates[k].release()
                self._state[k] = "done"
        self._finished.set()

    # ---- what the intrinsics call ----------------------------------------------------------------
    def barrier(self):
        """Wait until every unfinished invocation of the workgroup waits here."""
        self._block("barrier")

    def subgroup(self, op, value, lane=None):
        """A subgroup operation: post this lane's operand, wait for the subgroup, return the result.
        Called by an intrinsic called by kernel code, whose position identifies the operation."""
        k = self._tls.index
        caller = sys._getframe(2)
        self._posted[k] = (op, value, lane, (caller.f_code.co_filename, caller.f_lineno, caller.f_lasti))
        self._block("subgroup")
        return self._results[k]

    def _complete_subgroup(self, start, lanes):
        """Complete the subgroup operation that ``lanes`` (local indices, subgroup from ``start``) wait at."""
        op = self._posted[lanes[0]][0]
        values = {k - start: self._posted[k][1] for k in lanes}
        for k in lanes:
            self._results[k] = _SUBGROUP_RESULTS[op](values, self._posted[k][2])
            self._state[k] = "ready"


def _reduce(op, values, lane):
    with np.errstate(over="ignore", invalid="ignore"):
        return functools.reduce(_REDUCTIONS[op], [values[k] for k in sorted(values)])


def _broadcast(values, lane):
    lane = int(lane)
    if lane not in values:
        active = ", ".join(map(str, sorted(values)))
        raise RuntimeError(f"kernel.emulate: subgroup_broadcast() reads lane {lane}, which is not active (active "
                           f"lanes: {active}); on a device the result is undefined")
    value = values[lane]
    return Vector(value.type, value.data) if isinstance(value, Vector) else value


def _ballot(values, lane):
    words = np.zeros(4, dtype=np.uint32)
    for k, cond in values.items():
        if cond:
            words[k // 32] |= np.uint32(1 << (k % 32))
    return words


_SUBGROUP_RESULTS = {"add": functools.partial(_reduce, "add"), "min": functools.partial(_reduce, "min"),
                     "max": functools.partial(_reduce, "max"), "broadcast": _broadcast, "ballot": _ballot}


def run_workgroup(function, args, workgroup):
    """Run a :class:`CooperativeWorkgroup` (the cooperative counterpart of the emulator's sequential
    ``_run_workgroup``)."""
    workgroup.run(function, args)
