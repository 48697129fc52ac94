"""Definite assignment: a local may only be read where every path reaching the read has assigned it.

Python raises ``UnboundLocalError`` when a read finds its local unassigned, but only when that path
runs; the device would read the zero a ``Function`` variable starts with, and the ``fold`` pass used to
read the constant of an assignment the path never made. So the frontend refuses, at compile time, a
read that some path may reach unassigned, like Java's and C#'s definite-assignment rule::

    if a[0] > 0.0:
        y = 1.0
    a[1] = y        # CompileError: 'y' may be read before it is assigned (... the `if` at line 1)

The analysis runs over one function's IR (:func:`check`, called by the frontend when a function body
is built), forward, with the set of locals assigned on every path so far:

* after an ``if`` only the locals both branches assign (a branch that ends in ``return``, ``break`` or
  ``continue`` does not reach the end, so it does not count); an ``if`` with a constant condition
  (``if DEBUG:``) counts only the branch that runs, as Python does;
* a loop may leave through its condition before a first iteration, so what its body assigns is not
  assigned after it, unless the condition is true on entry: a constant (``while True``) or a comparison
  of constants and locals just assigned constants, which covers ``for k in range(4)`` (its counter starts
  at 0 against a constant trip count) and ``i = 0; while i < 4``. ``while True`` leaves only through
  its ``break`` statements, so what every ``break`` path assigned is assigned after it.

The rule is static: a program that Python runs only because of run-time values (a branch that happens
to be taken on the first iteration) must assign the local before the branch.
"""
import operator

from ..errors import CompileError
from .ir import Assign, Break, Continue, If, Loop, Return, assigned_vars, stmt_exprs

_COMPARE = {"eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "le": operator.le, "gt": operator.gt,
            "ge": operator.ge}
_CONSTANT_OPS = ("const", "literal")


class _State:
    """What holds at one point of a reachable path: the locals assigned on every path to it, and for
    the others assigned on some path, the statement after which they may be unassigned (the ``if`` or
    loop the error names)."""
    __slots__ = ("assigned", "causes")

    def __init__(self, assigned, causes):
        self.assigned = assigned
        self.causes = causes

    def with_assigned(self, var):
        """This state after an assignment to ``var``."""
        return _State(self.assigned | {var}, self.causes)


def _merge(states, at):
    """The state where the paths of ``states`` meet (None for an unreachable path) just after ``at``;
    None when no path reaches it."""
    reaching = [s for s in states if s is not None]
    if not reaching:
        return None
    assigned = frozenset.intersection(*(s.assigned for s in reaching))
    causes = {}
    for s in reaching:
        for var, cause in s.causes.items():
            causes.setdefault(var, cause)
    for s in reaching:
        for var in s.assigned - assigned:
            causes.setdefault(var, at)
    return _State(assigned, causes)


class _Loop:
    """The paths that leave a loop's body early, collected while it is walked."""
    __slots__ = ("breaks", "continues")

    def __init__(self):
        self.breaks = []
        self.continues = []


class Unassigned(Exception):
    """A read of ``var`` at ``loc`` that may find it unassigned; ``cause`` is the ``if`` or loop after
    which it may be (None: no assignment before the read at all)."""

    def __init__(self, var, loc, cause):
        super().__init__(var.name)
        self.var, self.loc, self.cause = var, loc, cause


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
            self.reads(e, state, state.assigned)
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
        return _merge([body, orelse], s)

    def loop(self, s, state, known):
        """A loop: its body and step from ``state``; the state after it merges every way out (the module
        docstring says which)."""
        inside = _Loop()
        changed = set(assigned_vars(s.body + s.step))
        body_known = {v: c for v, c in known.items() if v not in changed}
        end = self.block(s.body, state, body_known, inside)
        stepped = self.block(s.step, _merge([end, *inside.continues], s), body_known, inside)
        entry = _constant_truth(s.cond, known)
        forever = _constant_truth(s.cond, {}) is True  # while True: only a break leaves
        exits = list(inside.breaks)
        if not forever:
            exits.append(stepped)
            if entry is not True:
                exits.append(state)
        return _merge(exits, s)

    def reads(self, e, state, assigned):
        """Raise :class:`Unassigned` for the first read in ``e`` of a tracked local not in ``assigned``
        (operands in evaluation order; a ``let`` assigns its local for its body only)."""
        if e.op == "local" and e.attr in self.tracked and e.attr not in assigned:
            raise Unassigned(e.attr, e.loc, state.causes.get(e.attr))
        if e.op == "let":
            self.reads(e.args[0], state, assigned)
            self.reads(e.args[1], state, assigned | {e.attr})
            return
        for a in e.args:
            self.reads(a, state, assigned)


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
    """The first read in ``body`` (a function's IR statements) of a local some path may reach before
    assigning it, as an :class:`Unassigned` with its cause, or None. Locals in ``assigned_on_entry``
    (parameters) count as assigned.

    >>> first_unassigned_read(fn.body, fn.params)  # doctest: +SKIP
    Unassigned('y')
    """
    entry = frozenset(assigned_on_entry)
    walk = _Walk(frozenset(assigned_vars(body)) - entry)
    state = _State(entry, {})
    try:
        walk.block(body, state, {}, None)
    except Unassigned as found:
        return found
    return None


def _explain(found):
    """The error message for an :class:`Unassigned` read."""
    name, cause = found.var.name, found.cause
    if isinstance(cause, If):
        return (f"'{name}' may be read before it is assigned (it is assigned only inside the `if` at line "
                f"{cause.loc.line}); assign it before the `if`")
    if isinstance(cause, Loop):
        if _constant_truth(cause.cond, {}) is True:
            why = f"it is not assigned on every path that leaves the loop at line {cause.loc.line} through a break"
        else:
            why = (f"it is not assigned on every path through the loop at line {cause.loc.line}: the loop may "
                   "run zero times, or a break or continue may skip the assignment")
        return f"'{name}' may be read before it is assigned ({why}); assign it before the loop"
    return f"'{name}' may be read before it is assigned; assign it before this line"


def check(fc, body, assigned_on_entry):
    """Raise a located :class:`~legionella.errors.CompileError` (through the FunctionCompiler ``fc``'s
    source and call chain) at the first read in ``body`` that may find its local unassigned."""
    found = first_unassigned_read(body, assigned_on_entry)
    if found is None:
        return
    loc = found.loc
    raise CompileError(_explain(found), filename=loc.filename, lineno=loc.line, col=loc.col,
                       text=fc.src.line_text(loc.line), chain=fc.chain)
