"""``for x in range(start, stop, step)``: an unsigned iteration counter and a trip count.

The frontend lowers the loop to::

    trip = len(range(start, stop, step))     # u32, computed once, before the loop
    end = start + i32(trip) * step           # where the range ends (i32 arithmetic, wrapping)
    j = -trip                                # u32
    while j != 0:
        x = end + i32(j) * step              # = start + (iteration number) * step, exact in the range
        body
        j += 1                               # the continue target: `continue` lands here

rather than the textbook ``x = start; while x < stop: body; x += step``, for these reasons:

* Mesa's NIR loop analysis (lavapipe/llvmpipe 22.3; the other Mesa Vulkan drivers share it) folds every
  loop exit that compares an induction variable with a constant into a trip count
  ``(limit - init) / step``, computed in C ``int32``. With ``step == -1`` and ``limit - init`` wrapping
  to INT_MIN, the driver's own ``idiv`` traps and SIGFPE kills the whole process at pipeline creation:
  ``for k in range(-1, 8, -1): if k == 2**31 - 1: return ...`` (an early ``return``/``break`` is a loop
  exit), or ``range(0, -2**31, -1)`` on its own. Here the only induction variable is ``j``, which steps
  by +1; a division by 1 cannot trap. ``x`` is recomputed from ``j``, so it is no induction variable.
* ``x += step`` overflows near the i32 limits (``range(0, 2**31 - 1, 2)`` never ended); the trip count
  is computed in u32 without overflow (a range of i32 values has at most 2**32 - 1 of them).
* Python rebinds ``x`` from the range at each iteration, whatever the body assigned to it; so does this.

``j`` counts up to 0 rather than from 0 up to ``trip`` because llvmpipe runs an exit test against the
constant 0 faster than one against a value: a nested loop with a one-operation body took 20 ms instead
of 24 (4096 invocations, 160 x 160 iterations each; lavapipe 22.3, two cores).

A range whose bounds are all literals has a constant trip count, and its exit test compares with a
constant either way; there the counter takes the textbook form ``j = 0; while j < trip: x = start +
i32(j) * step; ...; j += 1``, the form glslang emits for ``for (int k = 0; k < 16; ++k)`` and the
one loop optimisers recognise (spirv-opt's unroller refuses an exit on ``!=``). On the H200,
examples/sgemm.py compiled this way runs within 2% of glslang's build of the same algorithm. ``j`` is
still the only induction variable and steps by +1, so Mesa's trip count is ``trip / 1``.
"""
from ..lang.types import boolean, i32, u32
from . import values as V
from .ir import Expr


def trip_count(start, stop, step, loc):
    """``len(range(start, stop, step))`` as a u32 expression (0 for an empty range; 0 too for a zero
    step known only at run time, where Python raises). Bounds are i32 expressions or int literals,
    each evaluated once by the caller. All literals fold here, in Python:

    >>> trip_count(V.literal(2**31 - 5, None), V.literal(2**31 - 1, None), V.literal(1, None), None).attr
    4
    """
    if all(V.is_literal(b) for b in (start, stop, step)):
        return V.const(len(range(start.attr, stop.attr, step.attr)), u32, loc)
    start, stop = V.coerce(start, i32), V.coerce(stop, i32)
    if V.is_literal(step):
        upward = step.attr > 0
        nonempty = V.compare("lt" if upward else "gt", start, stop, loc)
        return _count(nonempty, _span(start, stop, upward, loc), V.const(abs(step.attr), u32, loc), loc)
    zero = V.const(0, i32, loc)
    upward = V.compare("gt", step, zero, loc)
    downward = V.compare("lt", step, zero, loc)
    nonempty_downward = _select(downward, V.compare("gt", start, stop, loc), V.const(False, boolean, loc), loc)
    nonempty = _select(upward, V.compare("lt", start, stop, loc), nonempty_downward, loc)
    span = _select(upward, _span(start, stop, True, loc), _span(start, stop, False, loc), loc)
    unsigned_step = _unsigned(step)
    magnitude = _select(upward, unsigned_step, V.binary("sub", V.const(0, u32, loc), unsigned_step, loc), loc)
    # an empty range's magnitude may be 0 (a zero step); divide by 1 there, the count is 0 anyway
    divisor = _select(nonempty, magnitude, V.const(1, u32, loc), loc)
    return _count(nonempty, span, divisor, loc)


def counter_start(trip, loc):
    """The counter's first value: 0 for a constant ``trip``, else ``-trip`` (it counts up to 0)."""
    return V.const(0, u32, loc) if trip.op == "const" else V.binary("sub", V.const(0, u32, loc), trip, loc)


def counter_test(counter, trip, loc):
    """Whether the loop runs again: ``counter < trip`` for a constant ``trip``, else ``counter != 0``."""
    if trip.op == "const":
        return V.compare("lt", counter, trip, loc)
    return V.compare("ne", counter, V.const(0, u32, loc), loc)


def value_base(start, trip, step, loc):
    """What the loop variable counts from, in ``loop_value(base, counter, step)``: ``start`` for a
    constant ``trip`` (the counter starts at 0), else where the range ends (the counter starts at -trip)."""
    return start if trip.op == "const" else loop_value(start, trip, step, loc)


def loop_value(start, counter, step, loc):
    """``start + i32(counter) * step`` for a u32 ``counter``, in wrapping i32 arithmetic: the loop
    variable (from ``end`` and ``j``), and ``end`` itself (from ``start`` and ``trip``)."""
    offset = V.binary("mul", V.coerce(counter, i32), step, loc)
    return V.binary("add", V.coerce(start, i32), offset, loc)


def _span(start, stop, upward, loc):
    """``stop - start`` (or ``start - stop`` downward) in u32: exact whenever the range is not empty."""
    low, high = (start, stop) if upward else (stop, start)
    return V.binary("sub", _unsigned(high), _unsigned(low), loc)


def _count(nonempty, span, magnitude, loc):
    """``(span - 1) // magnitude + 1`` when the range is not empty, else 0 (all u32, no overflow)."""
    if magnitude.op == "const" and magnitude.attr == 1:
        count = span
    else:
        last = V.binary("floordiv", V.binary("sub", span, V.literal(1, loc), loc), magnitude, loc)
        count = V.binary("add", last, V.literal(1, loc), loc)
    return _select(nonempty, count, V.const(0, u32, loc), loc)


def _unsigned(e):
    """An i32 expression's bits as u32."""
    return V.coerce(e, u32)


def _select(cond, if_true, if_false, loc):
    """``if_true if cond else if_false``, both evaluated (they are cheap and have no effects)."""
    return Expr("select", if_true.type, (cond, if_true, if_false), loc=loc)
