"""Reads of locals that no path has assigned.

Python raises ``UnboundLocalError`` when a read finds its local unassigned, on the path that runs. The
device cannot raise: a local is a ``Function`` variable that starts at zero. So:

* a read that no path reaches with its local assigned is a ``CompileError``: Python could never run it
  (``a[0] = y`` before any ``y = ...``, a local assigned only under ``if DEBUG:`` with ``DEBUG = False``,
  or only in ``for j in range(3, 0)``);
* a read that some paths reach with the local assigned and others without (assigned only inside an
  ``if``, or in a loop that may run zero times; ``found = k`` inside a search loop) compiles, as Python
  runs it. Where the local was assigned the device gives Python's value; on a path where Python would
  raise, the device reads zero, and ``kernel.emulate`` raises ``UnboundLocalError``, so a differential
  test shows it. Every pass keeps that zero (``fold`` replaces a read by a constant only where the
  constant's assignment surely ran).

The analysis runs over one function's IR (:func:`check`, called by the frontend when a function body
is built), forward, with the locals assigned on every path so far and those assigned on some path:

* after an ``if`` the union of what its branches assign (a branch that ends in ``return``, ``break``
  or ``continue`` does not reach the end); an ``if`` with a constant condition counts only the branch
  that runs, as Python does;
* a loop's body may also be reached from its own end, so what the body assigns counts as assigned on
  some path anywhere in it; after a loop that surely runs once (a constant condition, or a comparison of
  constants and locals just assigned constants: ``for k in range(4)``, ``i = 0; while i < 4``) what every
  path through it assigns is assigned, and after one that surely never runs (``range(3, 0)``) nothing is.
"""
import operator

from ..errors import CompileError
from .ir import Assign, Break, Continue, If, Loop, Return, assigned_vars, stmt_exprs

_COMPARE = {"eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "le": operator.le, "gt": operator.gt,
            "ge": operator.ge}
_CONSTANT_OPS = ("const", "literal")


class _State:
    """What holds at one point of a reachable path: the locals assigned on every path to it
    (``assigned``) and those assigned on at least one (``maybe``, a superset)."""
    __slots__ = ("assigned", "maybe")

    def __init__(self, assigned, maybe):
        self.assigned = assigned
        self.maybe = maybe

    def with_assigned(self, var):
        """This state after an assignment to ``var``."""
        return _State(self.assigned | {var}, self.maybe | {var})


def _merge(states):
    """The state where the paths of ``states`` meet (None for an unreachable path); None when no path
    reaches it."""
    reaching = [s for s in states if s is not None]
    if not reaching:
        return None
    return _State(frozenset.intersection(*(s.assigned for s in reaching)),
                  frozenset.union(*(s.maybe for s in reaching)))


class _Loop:
    """The paths that leave a loop's body early, collected while it is walked."""
    __slots__ = ("breaks", "continues")

    def __init__(self):
        self.breaks = []
        self.continues = []


class Unassigned(Exception):
    """A read of ``var`` at ``loc`` that no path reaches with ``var`` assigned."""

    def __init__(self, var, loc):
        super().__init__(var.name)
        self.var, self.loc = var, loc


class _Walk:
    """The forward walk over one function body."""

    def __init__(self, tracked):
        self.tracked = tracked  # the locals the body assigns that are not assigned on entry

    def block(self, stmts, state, known, loop):
        """Walk a statement list from ``state``; returns the state at its end (None: never reached).
        ``known`` maps locals to the constant they surely hold here (for loop conditions)."""
        known = dict(known)
        for s in stmts:
            if state is None:
                return None  # after a return, break or continue: never runs
            state = self.stmt(s, state, known, loop)
            if isinstance(s, Assign):
                value = s.value
                if value.op in _CONSTANT_OPS and not isinstance(value.attr, tuple):
                    known[s.var] = value.attr
                else:
                    known.pop(s.var, None)
            elif isinstance(s, (If, Loop)):
                for var in assigned_vars([s]):
                    known.pop(var, None)
        return state

    def stmt(self, s, state, known, loop):
        """Check the reads of statement ``s`` and return the state after it (None: it never falls
        through); ``loop`` collects the paths of a ``break`` or ``continue``."""
        for e in stmt_exprs(s):
            self.reads(e, state.maybe)
        if isinstance(s, Assign):
            return state.with_assigned(s.var)
        if isinstance(s, If):
            return self.branch(s, state, known, loop)
        if isinstance(s, Loop):
            return self.loop(s, state, known)
        if isinstance(s, Break):
            loop.breaks.append(state)
            return None
        if isinstance(s, Continue):
            loop.continues.append(state)
            return None
        if isinstance(s, Return):
            return None
        return state

    def branch(self, s, state, known, loop):
        """An ``if``: its branches from ``state`` (only the one that runs, for a known condition), merged."""
        taken = _constant_truth(s.cond, known)
        body = self.block(s.body, state, known, loop) if taken is not False else None
        orelse = self.block(s.orelse, state, known, loop) if taken is not True else None
        return _merge([body, orelse])

    def loop(self, s, state, known):
        """A loop: its body and step from ``state``; the state after it merges every way out (the module
        docstring says which)."""
        entry = _constant_truth(s.cond, known)
        if entry is False:
            return state  # never runs
        inside = _Loop()
        changed = frozenset(assigned_vars(s.body + s.step))
        body_known = {v: c for v, c in known.items() if v not in changed}
        start = _State(state.assigned, state.maybe | changed)  # the body is reached from its own end too
        end = self.block(s.body, start, body_known, inside)
        stepped = self.block(s.step, _merge([end, *inside.continues]), body_known, inside)
        forever = _constant_truth(s.cond, {}) is True  # while True: only a break leaves
        exits = list(inside.breaks)
        if not forever:
            exits.append(stepped)
            if entry is not True:
                exits.append(state)
        return _merge(exits)

    def reads(self, e, maybe):
        """Raise :class:`Unassigned` for the first read in ``e`` of a tracked local not in ``maybe``
        (operands in evaluation order; a ``let`` assigns its local for its body only)."""
        if e.op == "local" and e.attr in self.tracked and e.attr not in maybe:
            raise Unassigned(e.attr, e.loc)
        if e.op == "let":
            self.reads(e.args[0], maybe)
            self.reads(e.args[1], maybe | {e.attr})
            return
        for a in e.args:
            self.reads(a, maybe)


def _constant_truth(cond, known):
    """True or False when ``cond`` is known on entry (a constant, or a comparison of constants and
    locals in ``known``), else None."""
    if cond.op in _CONSTANT_OPS:
        return bool(cond.attr)
    if cond.op == "cmp" and cond.attr in _COMPARE:
        values = [a.attr if a.op in _CONSTANT_OPS else known.get(a.attr) if a.op == "local" else None
                  for a in cond.args]
        if all(v is not None and not isinstance(v, tuple) for v in values):
            return bool(_COMPARE[cond.attr](*values))
    return None


def first_unassigned_read(body, assigned_on_entry):
    """The first read in ``body`` (a function's IR statements) of a local that no path reaching it has
    assigned, as an :class:`Unassigned`, or None. Locals in ``assigned_on_entry`` (parameters) count as
    assigned.

    >>> first_unassigned_read(fn.body, fn.params)  # doctest: +SKIP
    Unassigned('y')
    """
    entry = frozenset(assigned_on_entry)
    walk = _Walk(frozenset(assigned_vars(body)) - entry)
    state = _State(entry, entry)
    try:
        walk.block(body, state, {}, None)
    except Unassigned as found:
        return found
    return None


def check(fc, body, assigned_on_entry):
    """Raise a located :class:`~legionella.errors.CompileError` (through the FunctionCompiler ``fc``'s
    source and call chain) at the first read in ``body`` that no path reaches with its local assigned."""
    found = first_unassigned_read(body, assigned_on_entry)
    if found is None:
        return
    loc = found.loc
    message = (f"'{found.var.name}' is read before any assignment to it (Python would raise "
               "UnboundLocalError here); assign it before this line")
    raise CompileError(message, filename=loc.filename, lineno=loc.line, col=loc.col,
                       text=fc.src.line_text(loc.line), chain=fc.chain)
