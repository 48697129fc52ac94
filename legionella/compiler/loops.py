"""Loops whose start values the driver must not see as constants, so Mesa's loop analysis cannot crash.

Mesa's NIR loop analysis (lavapipe/llvmpipe 22.3; the other Mesa Vulkan drivers share it) looks in
every loop for a *basic induction variable*: a header phi ``k = phi(init, k')`` whose start ``init`` is
a constant and whose update is ``k' = k + step`` with a constant ``step``. For each loop exit (the
``while`` test, a top-level ``if ...: break`` or ``return``) that compares such a ``k`` with a constant
``limit`` (``==``, ``!=``, ``<``, ``>=`` and their mirrors; also ``min(x, limit)``), ``get_iteration``
folds a trip count ``(limit - init) / step`` with ``nir_op_idiv``, whose constant folding is C's ``/``
on ``int32``. With ``step == -1`` and ``limit - init`` wrapping to ``INT_MIN`` that is ``INT_MIN / -1``:
SIGFPE kills the process while the pipeline is created. Both of these did::

    k = -1                          k, n = 0, 0
    while k != 2**31 - 1:           while n < 10:
        ...                             if k == -2**31:
        k -= 1                              break
                                        n += 1
                                        k -= 1

Any other step is harmless (``INT_MIN / -2`` does not trap, a zero step folds to 0, an unsigned
comparison divides unsigned). ``for ... in range(...)`` counts with an unsigned ``+1`` counter of its
own (:mod:`.ranges`), but a ``while`` loop, or a variable of the user's in any loop, may step by -1.

The rewrite: right before the loop, each integer variable that *might* step by -1 becomes
``v + (1 if num_groups().x == 0 else 0)``. No invocation runs in an empty launch, so that is ``v``;
but ``num_groups`` is a push constant, unknown when the pipeline is created, so the phi's start is not
a constant and there is no induction variable to divide by, whatever the exits compare with. It costs a
push-constant load, a compare, a select and an add per such variable and loop entry, outside the loop
body; on a GPU it also stops the driver from unrolling that loop, so it is applied only where needed.
Hiding the limit instead would not do (``min(x, C)`` and array sizes are folded too); an
``OpCopyObject`` would not either: NIR looks through it, as through our locals.

Which variables might step by -1 is decided on our IR, without knowing what NIR will fold: a step read
from a local holding a constant is folded, helpers are inlined, a loaded value may be one the loop just
stored. Each variable ``v`` the loop assigns starts the iteration as ``v0``, and every value is tracked,
over all paths, as a set of *shapes* per loop variable it depends on:

* an integer ``c``: exactly ``v0 + c`` (``v -= 1``; ``t = v + 2`` then ``v = t``);
* :data:`OPAQUE_OFFSET`: ``v0`` plus something that depends on no loop variable and that the driver
  cannot know (``s += a[i]``; a parameter counts as known, since it reaches the loop through a local,
  so ``s += n`` gets the opaque start): not a constant step;
* :data:`HOMOGENEOUS`: a function that is 0 wherever ``v0`` is 0 (``v * 2``, ``v >> 1``, ``v // 4``,
  ``v % 8``, ``v & mask``), so never ``v0 - 1``, which is -1 there;
* :data:`ANY`: any other dependence (``v + d`` for a local ``d``, ``-v + 1``, ``min(v, n)``, a helper's
  result, a vector component).

A value that depends on no loop variable cannot be ``v0 + step`` either. ``v`` gets the opaque start when
its value at the back edge may be ``v0 - 1``: the offset -1 (modulo 2**bits) or :data:`ANY`. Loops that
only count up (``i += 1``), halve (``stride //= 2``), accumulate loaded values (``s += a[i]``) or
overwrite (``x = a[i]``) keep their SPIR-V unchanged. Nested loops are iterated to a fixed point; a load
may return anything the loop stores (NIR forwards stores to loads). The argument rests on NIR's rewrites
preserving values, which they do, and on its loop analysis reasoning about one variable at a time.
"""
import dataclasses

from ..lang.types import ScalarType, VectorType, boolean, i32, ivec3
from .ir import Assign, Break, Continue, Expr, ExprStmt, If, Loop, Return, Store, assigned_vars
from .typerules import scalar_of

ANY = "any"  # a shape: depends on the start value in a way not followed here
HOMOGENEOUS = "homogeneous"  # a shape: 0 wherever the start value is 0
OPAQUE_OFFSET = "opaque offset"  # a shape: the start value plus a value the driver cannot fold
OFFSETS_KEPT = 8  # more distinct offsets than this (a count in a nested loop) widen to ANY
_OPAQUE_OPS = frozenset({"push", "shape"})  # values set at launch time
_CONDITIONAL_OPS = frozenset({"and", "or", "ifexp"})  # operands after the first may not be evaluated
_PRODUCT_OPS = frozenset({"mul", "bitand"})  # 0 times anything is 0
_SHIFT_OPS = frozenset({"lshift", "rshift"})  # 0 shifted by anything is 0
_DIVISION_OPS = frozenset({"floordiv", "mod"})  # 0 // c and 0 % c are 0 for a constant c != 0


def opaque_starts(loop):
    """The statements to run right before ``loop``: ``v = v + (1 if num_groups().x == 0 else 0)`` for
    each integer variable whose constant start could crash the driver (the module docstring says why);
    none for a loop that steps no variable by -1.

    >>> from .ir import Var
    >>> k = Var("k", i32)
    >>> down = Assign(None, k, Expr("binop", i32, (Expr("local", i32, attr=k), Expr("literal", i32, attr=1)),
    ...                             attr="sub"))
    >>> forever = Expr("literal", boolean, attr=True)
    >>> [s.var.name for s in opaque_starts(Loop(None, forever, [down], []))]
    ['k']
    >>> down.value.attr = "add"
    >>> opaque_starts(Loop(None, forever, [down], []))
    []
    """
    return [Assign(loop.loc, var, _opaque(var, loop.loc)) for var in steps_by_minus_one(loop)]


def steps_by_minus_one(loop):
    """The integer variables ``loop`` assigns whose value at the end of an iteration may be their value
    at its start minus one, in the order of their first assignment."""
    assigned = assigned_vars([loop])
    entry = {var: _Value({var: frozenset({0})}) for var in assigned}
    memory = _OPAQUE  # a load returns what the buffer held, unless the loop stored it
    while True:  # until what the loads may return covers what the loop stores
        walk = _Walk(memory)
        tested = walk.evaluate(loop.cond, entry)[1]
        fallthrough, continues, _ = walk.run(loop.body, tested)
        ends = [walk.run(loop.step, s)[0] for s in (fallthrough, *continues) if s is not None]
        grown = _join(memory, *walk.stored)
        if grown == memory:
            break
        memory = grown
    end = _join_states(ends)
    return [var for var in assigned if _is_integer(var.type) and var in end and _may_be_minus_one(var, end[var])]


def _opaque(var, loc):
    """``var + (1 if num_groups().x == 0 else 0)``: ``var`` in every invocation that runs, but not a
    constant to the driver (``num_groups`` is a push constant)."""
    groups = Expr("builtin", ivec3, attr="num_groups", loc=loc)
    x = Expr("extract", i32, (groups,), attr=0, loc=loc)
    empty = Expr("cmp", boolean, (x, Expr("const", i32, attr=0, loc=loc)), attr="eq", loc=loc)
    scalar = scalar_of(var.type)
    one_if_empty = Expr("select", scalar, (empty, Expr("const", scalar, attr=1, loc=loc),
                                           Expr("const", scalar, attr=0, loc=loc)), loc=loc)
    if isinstance(var.type, VectorType):
        one_if_empty = Expr("splat", var.type, (one_if_empty,), loc=loc)
    read = Expr("local", var.type, attr=var, loc=loc)
    return Expr("binop", var.type, (read, one_if_empty), attr="add", loc=loc)


def _is_integer(t):
    return isinstance(t, (ScalarType, VectorType)) and scalar_of(t).kind in "iu"


def _bits(t):
    """The width of an integer scalar type (offsets wrap modulo 2**bits); None for any other type."""
    return t.bits if isinstance(t, ScalarType) and t.kind in "iu" else None


def _may_be_minus_one(var, value):
    shapes = value.shapes.get(var, frozenset())
    bits = _bits(var.type)
    return ANY in shapes or (bits is not None and 2**bits - 1 in shapes)


# ---- values ----------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class _Value:
    """What is known of a value: ``shapes`` maps each loop variable it depends on to its shapes there,
    over all paths; ``opaque`` says that on every path the driver cannot fold it to a constant (a push
    constant or a loaded value, through bijections such as ``x + 1``, ``-x``, ``~x`` or a bit cast)."""
    shapes: dict = dataclasses.field(default_factory=dict)
    opaque: bool = False


_CONSTANT = _Value()  # depends on no loop variable, and the driver may know it
_OPAQUE = _Value(opaque=True)  # depends on no loop variable, and the driver cannot know it


def _normal(shapes):
    if ANY in shapes or sum(isinstance(s, int) for s in shapes) > OFFSETS_KEPT:
        return frozenset({ANY})
    return frozenset(shapes)


def _join(*values):
    """The value on any one of several paths (at least one)."""
    shapes = {}
    for value in values:
        for base, more in value.shapes.items():
            shapes[base] = _normal(shapes.get(base, frozenset()) | more)
    return _Value(shapes, all(v.opaque for v in values))


def _anything(*values):
    """A value computed from ``values`` in a way not followed here."""
    return _Value({base: frozenset({ANY}) for v in values for base in v.shapes})


def _vanishes(shapes):
    """Whether every shape is 0 where the start value is 0 (``v0`` itself or :data:`HOMOGENEOUS`)."""
    return shapes is not None and shapes <= {0, HOMOGENEOUS}


def _homogeneous_where(vanishing, *values):
    """:data:`HOMOGENEOUS` in the loop variables that ``vanishing`` accepts, :data:`ANY` in the others."""
    bases = {base for v in values for base in v.shapes}
    return _Value({base: frozenset({HOMOGENEOUS if vanishing(base) else ANY}) for base in bases})


def _shifted(value, k):
    """``value + k`` for a known integer ``k``."""
    return _Value({base: _normal({_shift_shape(s, k, _bits(base.type)) for s in shapes})
                   for base, shapes in value.shapes.items()}, value.opaque)


def _shift_shape(shape, k, bits):
    if isinstance(shape, int) and bits is not None:
        return (shape + k) % 2**bits
    return shape if k == 0 or shape == OPAQUE_OFFSET else ANY


def _plus_opaque(value, addend):
    """``value + addend`` or ``value - addend`` for an opaque ``addend``: an exact offset in a loop
    variable that ``addend`` does not depend on becomes :data:`OPAQUE_OFFSET`; anything else could
    cancel out (``s + a[i] - a[i]``), so it is :data:`ANY`."""
    shapes = {}
    for base in value.shapes.keys() | addend.shapes.keys():
        own = value.shapes.get(base, frozenset())
        exact = base not in addend.shapes and all(isinstance(s, int) for s in own)
        shapes[base] = frozenset({OPAQUE_OFFSET if exact else ANY})
    return _Value(shapes, value == _CONSTANT)


def _int_literal(e):
    if e.op in ("const", "literal") and isinstance(e.attr, int) and not isinstance(e.attr, bool):
        return e.attr
    return None


def _binop(e, a, b):
    """The value of the ``binop`` ``e`` from its operands' values ``a`` and ``b``."""
    op, left, right = e.attr, _int_literal(e.args[0]), _int_literal(e.args[1])
    if op in ("add", "sub") and right is not None:
        return _shifted(a, right if op == "add" else -right)
    if op == "add" and left is not None:
        return _shifted(b, left)
    if op in ("add", "sub") and b.opaque:
        return _plus_opaque(a, b)
    if op == "add" and a.opaque:
        return _plus_opaque(b, a)
    if op in _PRODUCT_OPS:
        return _homogeneous_where(lambda x: _vanishes(a.shapes.get(x)) or _vanishes(b.shapes.get(x)), a, b)
    if op in _SHIFT_OPS or (op in _DIVISION_OPS and right not in (None, 0)):
        return _homogeneous_where(lambda x: _vanishes(a.shapes.get(x)), a, b)
    return _anything(a, b)


def _unop(e, a):
    if e.attr == "neg":
        return _Value(_homogeneous_where(lambda x: _vanishes(a.shapes.get(x)), a).shapes, a.opaque)
    return _Value(_anything(a).shapes, a.opaque and e.attr == "invert")


def _convert(e, a):
    """An integer conversion of one width is a bit cast, which keeps offsets; any other loses them."""
    src, dst = scalar_of(e.args[0].type), scalar_of(e.type)
    if src is not None and dst is not None and src.bits == dst.bits and src.kind in "iu" and dst.kind in "iu":
        return a
    return _anything(a)


# ---- states: {Var: _Value} at one point of the iteration; only the loop's own variables ------------
def _join_states(states):
    """The state on any one of several paths (none: an empty state)."""
    variables = {var: None for state in states for var in state}
    return {var: _join(*(s[var] for s in states if var in s)) for var in variables}


class _Walk:
    """One abstract run of an iteration over all its paths. ``memory`` is what a load may return;
    ``stored`` collects the values this run stores (or passes to a helper or an atomic)."""

    def __init__(self, memory):
        self.memory = memory
        self.stored = []
        self.state = None

    # ---- expressions, evaluated in self.state (which a ``let`` updates) --------------------------
    def evaluate(self, e, state):
        """(the value of ``e``, the state after evaluating it) in ``state``, which is left unchanged."""
        self.state = dict(state)
        value = self.value(e)
        return value, self.state

    def value(self, e):
        op = e.op
        if op in _CONDITIONAL_OPS:
            return self.conditional(e)
        if op == "let":  # stores into its variable, then evaluates its second operand
            self.state[e.attr] = self.value(e.args[0])
            return self.value(e.args[1])
        args = [self.value(a) for a in e.args]
        if op == "local":
            return self.state.get(e.attr, _CONSTANT)
        if op in _OPAQUE_OPS:
            return _OPAQUE
        if op in ("load", "atomic"):
            self.stored += args[1:] if op == "atomic" else []
            return _Value(_join(self.memory, *(_anything(a) for a in args)).shapes, self.memory.opaque)
        if op == "call":
            self.stored += args
            return _anything(self.memory, *args)
        if op == "binop":
            return _binop(e, *args)
        if op == "unop":
            return _unop(e, *args)
        if op == "convert":
            return _convert(e, *args)
        if op == "select":
            return _join(args[1], args[2])
        return _anything(*args)

    def conditional(self, e):
        """``and``/``or``/``ifexp``: the operands after the first run on some paths only, and the state
        after is the join over those paths."""
        first = self.value(e.args[0])
        before = self.state
        paths, values = ([] if e.op == "ifexp" else [before]), []
        for a in e.args[1:]:
            self.state = dict(before)
            values.append(self.value(a))
            paths.append(self.state)
        self.state = _join_states(paths)
        return _join(*values) if e.op == "ifexp" else _anything(first, *values)

    # ---- statements: (state after or None where control leaves, states at continues, at breaks) --
    def run(self, stmts, state):
        continues, breaks = [], []
        for s in stmts:
            if state is None:
                break  # the rest is unreachable
            state, more_continues, more_breaks = _STATEMENTS[type(s)](self, s, state)
            continues += more_continues
            breaks += more_breaks
        return state, continues, breaks

    def s_assign(self, s, state):
        value, state = self.evaluate(s.value, state)
        state[s.var] = value
        return state, [], []

    def s_store(self, s, state):
        state = self.evaluate(s.index, state)[1]
        value, state = self.evaluate(s.value, state)
        self.stored.append(value)
        return state, [], []

    def s_expr(self, s, state):
        return self.evaluate(s.value, state)[1], [], []

    def s_if(self, s, state):
        state = self.evaluate(s.cond, state)[1]
        then, continues, breaks = self.run(s.body, state)
        otherwise, more_continues, more_breaks = self.run(s.orelse, state)
        after = [x for x in (then, otherwise) if x is not None]
        return (_join_states(after) if after else None), continues + more_continues, breaks + more_breaks

    def s_loop(self, s, state):
        """A nested loop: its header state is iterated to a fixed point (offsets widen to ANY, so this
        ends); it is left at its test or at a break, and keeps its own continues and breaks."""
        head = state
        while True:
            tested = self.evaluate(s.cond, head)[1]
            fallthrough, continues, breaks = self.run(s.body, tested)
            latches = [self.run(s.step, x)[0] for x in (fallthrough, *continues) if x is not None]
            wider = _join_states([state, *latches])
            if wider == head:
                return _join_states([tested, *breaks]), [], []
            head = wider

    def s_break(self, s, state):
        return None, [], [state]

    def s_continue(self, s, state):
        return None, [state], []

    def s_return(self, s, state):
        if s.value is not None:
            self.evaluate(s.value, state)
        return None, [], []


_STATEMENTS = {Assign: _Walk.s_assign, Store: _Walk.s_store, ExprStmt: _Walk.s_expr, If: _Walk.s_if,
               Loop: _Walk.s_loop, Break: _Walk.s_break, Continue: _Walk.s_continue, Return: _Walk.s_return}
