"""Random well-typed kernels, free of undefined behaviour by construction, for differential fuzzing.

:func:`generate` writes the source of a module holding module constants, helper functions (annotated
or not, returning one value or a tuple) and one kernel, ``kern``, with a fixed signature
(:data:`SIGNATURE`): an input buffer, an output buffer and a scalar of each of ``i32``, ``u32`` and
``f32``, plus a 2-D ``i32`` input. ``GRID`` in the module is the launch (N invocations in 1-D or 2-D)
and ``WORKGROUP`` the kernel's ``workgroup=`` (None for the compiler's choice). Each invocation runs random statements (assignments to new, bool, existing and
loop variables, augmented assignments, ``if/elif/else``, ``while`` and ``for ... in range`` loops with
either step sign, ``break``, ``continue``, early ``return``, stores and read-modify-write stores, helper
calls and tuple unpacking) over expressions with every Python operator, chained comparisons, ``and``,
``or``, ``not``, conditional expressions, ``select``, ``clamp``, ``min``, ``max``, ``abs``, casts and
mixed-type arithmetic (i64 and f64 by numpy's rules), and stores its results in ``out[gid * SLOTS + k]``.

Every choice goes through a ``choices`` object with one method, ``integer(lo, hi)``, so the same
generator runs on :class:`RandomChoices` (quick looks) and on hypothesis data (shrinkable: option 0 is
always the simplest, so shrinking towards 0 simplifies the program).

Undefined behaviour is excluded where it is made, never by filtering afterwards:

* integer divisors are ``(e & 31) + 2`` or its negation, or a literal outside {-1, 0}: no division by
  zero, no ``INT_MIN // -1``; float divisors are ``abs(e) + 1.0``;
* float ``//`` and ``%`` take small multiples of 1/8 and divisors that keep ``x / y`` far from an integer
  unless exact: the device computes them as ``x - y * floor(x / y)`` (Vulkan's precision for OpFMod),
  which loses the answer near quotient boundaries and for large quotients, where numpy is exact;
* shift amounts are ``e & 31`` or literals in 0..31;
* a float becomes an integer only through the ``f2i``/``f2u`` helpers, which map NaN to 0 and clamp;
* every loop has a static trip bound and the product of the bounds of enclosing loops (helper calls
  included) stays under :attr:`Limits.iterations`; with the default limits an invocation runs a few
  thousand iterations at most (sibling loops and calls add up), far below lavapipe's ~65,535 cut-off;
* buffer indices are ``gid`` or ``e & (N - 1)`` with ``N`` the buffer length;
* bare literals appear only as the right operand of an operator whose left operand is typed, so they
  adapt (NEP 50) the same way on the device and in the emulator; elsewhere they are wrapped, ``i32(5)``;
* a variable is used only inside the block that assigned it (Python would see it unbound elsewhere).

:func:`generate_elementwise` writes element-wise kernels instead, the shape the ``vectorize`` pass
rewrites (see :class:`ElementwiseGenerator`), with the same rules.
"""
import dataclasses
import random

N = 32  # invocations, and the length of every input buffer (a power of two, for the index masks)
SLOTS = 4  # outputs per invocation and type
ROWS = 4  # a 2-D launch is (N // ROWS, ROWS)
TYPES = ("i32", "u32", "f32")
INPUT = {"i32": "xi", "u32": "xu", "f32": "xf"}
OUTPUT = {"i32": "oi", "u32": "ou", "f32": "of"}
SCALAR = {"i32": "si", "u32": "su", "f32": "sf"}
COLUMNS = 4  # of the 2-D input ``xm``, shape (N, COLUMNS)
SIGNATURE = ", ".join([f"{INPUT[t]}: Buffer[{t}]" for t in TYPES] + ["xm: Buffer[i32, 2]"]
                      + [f"{OUTPUT[t]}: Buffer[{t}]" for t in TYPES] + [f"{SCALAR[t]}: {t}" for t in TYPES])
CONSTANTS = {"i32": "K_I", "u32": "K_U", "f32": "K_F"}  # module-level constants, folded by the compiler
VECTORS = {"i32": "ivec", "u32": "uvec", "f32": "vec"}  # vector constructor prefixes

PRELUDE = '''\
from legionella.lang import (Buffer, clamp, dot, f32, global_id, group_id, i32, ivec2, ivec4, local_id, num_groups,
                             select, u32, uvec2, uvec4, vec2, vec4, workgroup_size)

K_I = -7
K_U = 3
K_F = 0.25


def f2i(x):
    """A float as an i32 without undefined behaviour: NaN is 0, the rest is clamped."""
    if x != x:
        return i32(0)
    return i32(min(max(x, f32(-1e9)), f32(1e9)))


def f2u(x):
    if x != x:
        return u32(0)
    return u32(min(max(x, f32(0.0)), f32(4e9)))
'''

LITERALS = {
    "i32": ("0", "1", "-1", "2", "7", "-13", "100", "1000003", "2147483647", "-2147483648", "65535"),
    "u32": ("0", "1", "2", "7", "13", "255", "65536", "1000003", "2147483648", "4294967295"),
    "f32": ("0.0", "1.0", "-1.0", "0.5", "2.0", "3.25", "-7.5", "100.0", "0.1", "1e-3", "-0.0"),
}
INT_OPERATORS = ("+", "-", "*", "//", "%", "&", "|", "^", "<<", ">>", "**")
FLOAT_OPERATORS = ("+", "-", "*", "/", "//", "%", "**")
COMPARISONS = ("<", "<=", ">", ">=", "==", "!=")
AUGMENTABLE = {"i32": ("+", "-", "*", "^", "|", "&", "//", "%", "<<", ">>"),
               "u32": ("+", "-", "*", "^", "|", "&", "//", "%", "<<", ">>"),
               "f32": ("+", "-", "*", "/")}


@dataclasses.dataclass(frozen=True)
class Limits:
    """How big a program may get. The defaults keep one program's emulation near 0.1 s."""
    expression_depth: int = 3
    block_statements: int = 5
    nesting: int = 3
    helpers: int = 3
    iterations: int = 64  # per invocation, loops and helper calls multiplied together


class RandomChoices:
    """Choices from a seeded :class:`random.Random`, for looking at programs outside hypothesis."""

    def __init__(self, seed):
        self._rng = random.Random(seed)

    def integer(self, lo, hi):
        return self._rng.randint(lo, hi)


class HypothesisChoices:
    """Choices drawn from hypothesis ``st.data()``, so failing programs shrink."""

    def __init__(self, data):
        from hypothesis import strategies
        self._data = data
        self._strategies = strategies

    def integer(self, lo, hi):
        return self._data.draw(self._strategies.integers(lo, hi))


@dataclasses.dataclass(frozen=True)
class Helper:
    """A generated helper: parameter and result types, and how many loop iterations one call may run."""
    name: str
    params: tuple
    results: tuple
    cost: int


@dataclasses.dataclass
class Context:
    """Where code is being generated: visible variables (name -> type), loop state, the iteration budget."""
    variables: dict
    in_kernel: bool  # the buffers are visible (not in a helper)
    returns: tuple  # what a ``return`` here returns: () in the kernel, the helper's result types
    in_loop: bool
    nesting: int
    budget: int  # loop iterations one execution of this block may still multiply into

    def inner(self, *, in_loop=None, budget=None):
        return Context(dict(self.variables), self.in_kernel, self.returns, self.in_loop if in_loop is None else in_loop,
                       self.nesting + 1, self.budget if budget is None else budget)


class Generator:
    """Writes one random module; see the module docstring for the guarantees."""

    condition_kinds = ("compare", "compare", "chain", "not", "and", "or")  # of a bool expression

    def __init__(self, choices, limits=Limits()):
        self.choices = choices
        self.limits = limits
        self.helpers = []
        self._names = 0

    # -- choices --------------------------------------------------------------------------------------
    def pick(self, options):
        return options[self.choices.integer(0, len(options) - 1)]

    def chance(self, percent):
        """True with about ``percent`` % probability (False is the shrink target)."""
        return self.choices.integer(0, 99) >= 100 - percent

    def fresh(self, prefix):
        self._names += 1
        return f"{prefix}{self._names}"

    # -- module ---------------------------------------------------------------------------------------
    def module(self):
        """The source of the whole module."""
        two_d = self.chance(30)
        grid = (N // ROWS, ROWS) if two_d else (N,)
        workgroup = self.pick((None, (4, 2), (8, 4), (2, 2)) if two_d else (None, (8,), (32,), (4,), (64,)))
        parts = [PRELUDE + f"GRID = {grid!r}  # the launch\n"
                 f"WORKGROUP = {workgroup!r}  # the kernel's workgroup=, None for the default\n"]
        for _ in range(self.choices.integer(0, self.limits.helpers)):
            parts.append(self.helper())
        parts.append(self.kernel(two_d))
        return "\n\n".join(parts)

    def kernel(self, two_d):
        """``kern``: ``gid`` numbers the N invocations of a 1-D or 2-D grid, the rest only check bounds."""
        variables = {"gid": "i32", **{SCALAR[t]: t for t in TYPES}}
        context = Context(variables, in_kernel=True, returns=(), in_loop=False, nesting=0,
                          budget=self.limits.iterations)
        body = self.block(context, indent=2)
        stores = self.final_stores(context, indent=2)
        width = N // ROWS
        header = (["    g = global_id()", f"    gid = g.x + g.y * {width}", f"    if g.x < {width} and g.y < {ROWS}:"]
                  if two_d else ["    gid = global_id().x", "    if gid < len(xi):"])
        return "\n".join([f"def kern({SIGNATURE}):", *header, *body, *stores]) + "\n"

    def final_stores(self, context, indent):
        """Store the last variables of each type (the block's own ones first) into the output slots."""
        lines = []
        for t in TYPES:
            names = [n for n, vt in context.variables.items() if vt == t and n not in SCALAR.values()]
            for slot, name in enumerate(reversed(names[-SLOTS:])):
                lines.append(" " * 4 * indent + f"{OUTPUT[t]}[gid * {SLOTS} + {slot}] = {name}")
        return lines

    def helper(self):
        name = f"h{len(self.helpers)}"
        params = tuple(self.pick(TYPES) for _ in range(self.choices.integer(1, 3)))
        results = tuple(self.pick(TYPES) for _ in range(self.choices.integer(1, 2)))
        cost = self.pick((1, 4, 8))
        annotate = self.chance(30)
        names = [f"p{i}" for i in range(len(params))]
        signature = ", ".join(f"{n}: {t}" if annotate else n for n, t in zip(names, params))
        context = Context(dict(zip(names, params)), in_kernel=False, returns=results, in_loop=False, nesting=1,
                          budget=cost)
        lines = [f"def {name}({signature}):", *self.block(context, indent=1),
                 f"    return {self.results(results, context)}"]
        self.helpers.append(Helper(name, params, results, cost))
        return "\n".join(lines) + "\n"

    def results(self, types, context):
        return ", ".join(self.expression(t, context, self.limits.expression_depth - 1) for t in types)

    # -- statements -----------------------------------------------------------------------------------
    def block(self, context, indent):
        """1 to ``block_statements`` statements; the variables they assign stay in ``context``."""
        lines = []
        for _ in range(self.choices.integer(1, self.limits.block_statements)):
            options = ["assign", "assign", "update", "store" if context.in_kernel else "assign"]
            if context.nesting < self.limits.nesting:
                options += ["branch", "for_loop", "while_loop"]
            if context.in_loop:
                options.append("jump")
            if context.nesting > 0:
                options.append("early_return")
            if self.callable_helpers(context, tuple_results=True):
                options.append("unpack")
            lines.extend(" " * 4 * indent + line for line in getattr(self, self.pick(options))(context, indent))
        return lines

    def assign(self, context, indent):
        t = self.pick(TYPES + ("bool",))
        value = self.value(t, context)
        name = self.fresh("v")
        context.variables[name] = t
        return [f"{name} = {value}"]

    def update(self, context, indent):
        # Variables, parameters and for-loop variables (Python's next iteration takes the next value of
        # the range anyway); never inputs, nor while-loop counters (they bound the loop).
        mine = [n for n in context.variables if n.startswith(("v", "p", "k"))]
        if not mine:
            return self.assign(context, indent)
        name = self.pick(mine)
        t = context.variables[name]
        op = self.pick(AUGMENTABLE.get(t, ()) + ("=",))
        if op == "=":
            return [f"{name} = {self.value(t, context)}"]
        return [f"{name} {op}= {self.right_operand(t, op, context, self.limits.expression_depth - 1)}"]

    def value(self, t, context):
        """A value for a variable of type ``t`` (``bool`` too)."""
        if t == "bool":
            return self.condition(context, 2)
        return self.expression(t, context, self.limits.expression_depth)

    def store(self, context, indent):
        t = self.pick(TYPES)
        target = f"{OUTPUT[t]}[gid * {SLOTS} + {self.choices.integer(0, SLOTS - 1)}]"
        if self.chance(30):  # read-modify-write of this invocation's own element
            op = self.pick(AUGMENTABLE[t])
            return [f"{target} {op}= {self.right_operand(t, op, context, self.limits.expression_depth - 1)}"]
        return [f"{target} = {self.expression(t, context, self.limits.expression_depth)}"]

    def branch(self, context, indent):
        lines = [f"if {self.condition(context, 2)}:", *self.sub_block(context.inner(), indent)]
        for _ in range(self.choices.integer(0, 2)):
            lines += [f"elif {self.condition(context, 2)}:", *self.sub_block(context.inner(), indent)]
        if self.chance(50):
            lines += ["else:", *self.sub_block(context.inner(), indent)]
        return lines

    def sub_block(self, context, indent):
        return [line[4 * indent:] for line in self.block(context, indent + 1)]

    def for_loop(self, context, indent):
        counter = self.fresh("k")
        bounds, trips = self.range_arguments(context)
        budget = context.budget // max(trips, 1)
        if budget < 1:
            return self.assign(context, indent)
        inner = context.inner(in_loop=True, budget=budget)
        inner.variables[counter] = "i32"
        return [f"for {counter} in range({bounds}):", *self.sub_block(inner, indent)]

    def range_arguments(self, context):
        """``range`` arguments and their trip count: literals with either step sign, or a masked value."""
        if self.chance(30):
            mask = self.pick((3, 7))
            return f"{self.expression('i32', context, 1)} & {mask}", mask
        if self.chance(25):  # bounds in [-3, 4] known only at run time; the step's sign too, sometimes
            start, stop = (f"({self.expression('i32', context, 1)} & 7) - 3" for _ in range(2))
            step = self.pick(("1", "-1", "2", f"({self.expression('i32', context, 1)} & 2) - 1"))
            return f"{start}, {stop}, {step}", 7
        start = self.choices.integer(-5, 5)
        stop = self.choices.integer(-5, 10)
        step = self.pick((1, 2, -1, 3, -2))
        trips = len(range(start, stop, step))
        if step == 1 and self.chance(50):
            return (f"{stop}" if start == 0 else f"{start}, {stop}"), trips
        return f"{start}, {stop}, {step}", trips

    def while_loop(self, context, indent):
        limit = self.pick((1, 3, 6))
        budget = context.budget // limit
        if budget < 1:
            return self.assign(context, indent)
        counter = self.fresh("w")
        inner = context.inner(in_loop=True, budget=budget)
        extra = f" and {self.condition(inner, 1)}" if self.chance(60) else ""
        return [f"{counter} = i32(0)", f"while {counter} < {limit}{extra}:", f"    {counter} += 1",
                *self.sub_block(inner, indent)]

    def early_return(self, context, indent):
        value = f" {self.results(context.returns, context)}" if context.returns else ""
        return [f"if {self.condition(context, 1)}:", f"    return{value}"]

    def jump(self, context, indent):
        return [f"if {self.condition(context, 1)}:", f"    {self.pick(('break', 'continue'))}"]

    def unpack(self, context, indent):
        helper = self.pick(self.callable_helpers(context, tuple_results=True))
        value = self.call(helper, context)
        names = [self.fresh("v") for _ in helper.results]
        context.variables.update(zip(names, helper.results))
        return [f"{', '.join(names)} = {value}"]

    # -- expressions ----------------------------------------------------------------------------------
    def expression(self, t, context, depth):
        """A ``t``-typed expression (fully parenthesised)."""
        if depth <= 0:
            return self.leaf(t, context)
        kinds = ["leaf", "binary", "binary", "unary", "minmax", "conditional", "cast", "clamp"]
        if t == "f32":
            kinds.append("true_division")
        if t in VECTORS:
            kinds.append("vector_component")
        if self.callable_helpers(context, result=t):
            kinds.append("helper_call")
        return getattr(self, "expr_" + self.pick(kinds))(t, context, depth - 1)

    def leaf(self, t, context):
        names = [n for n, vt in context.variables.items() if vt == t]
        kinds = ("literal",) + (("variable",) if names else ()) + (("read",) if context.in_kernel else ())
        kind = self.pick(kinds + (("length",) if t == "i32" and context.in_kernel else ()))
        if kind == "variable":
            return self.pick(names)
        if kind == "read":
            if t == "i32" and self.chance(30):
                return f"xm[{self.index(context)}, ({self.expression('u32', context, 0)} & {COLUMNS - 1})]"
            return f"{INPUT[t]}[{self.index(context)}]"
        if kind == "length":
            return self.pick(("len(xi)", "xm.shape[1]", "len(xm)", "xm.shape[0]", "local_id().x", "group_id().x",
                              "workgroup_size().x", "num_groups().x"))
        return f"{t}({self.pick(LITERALS[t])})"

    def index(self, context):
        if self.chance(60):
            return "gid"
        return f"({self.expression(self.pick(('i32', 'u32')), context, 1)} & {N - 1})"

    def expr_leaf(self, t, context, depth):
        return self.leaf(t, context)

    def expr_binary(self, t, context, depth):
        op = self.pick(FLOAT_OPERATORS if t == "f32" else INT_OPERATORS)
        if t == "f32" and op in ("//", "%"):
            # The device computes these as x - y * floor(x / y), exact only while x / y is exact enough
            # (Vulkan gives OpFMod that precision), so both operands are small multiples of 1/8.
            left = f"(f32(({self.expression('i32', context, depth)} & 4095) - 2048) * 0.125)"
        else:
            left = self.expression(t, context, depth)
        return f"({left} {op} {self.right_operand(t, op, context, depth)})"

    def right_operand(self, t, op, context, depth):
        """The right operand of ``op``, made safe: divisors are never 0 (or -1), shifts stay under 32."""
        literal = self.chance(40)
        if op in ("<<", ">>"):
            return str(self.choices.integer(0, 31)) if literal else f"({self.expression(t, context, depth)} & 31)"
        if op == "**":
            return self.pick(("2", "0", "1", "3"))
        if op == "/":
            return self.pick(("2.0", "0.5", "-3.0")) if literal else f"(abs({self.expression(t, context, depth)}) + 1.0)"
        if op in ("//", "%"):
            if t == "f32":
                return self.pick(("2.0", "0.5", "-3.0", "7.0", "-1.5")) if literal else \
                    f"f32(({self.expression('i32', context, depth)} & 7) + 1)"
            if literal:
                return self.pick(("2", "7", "-3", "1000") if t == "i32" else ("2", "7", "1000"))
            divisor = f"(({self.expression(t, context, depth)} & 31) + 2)"
            return f"(-{divisor})" if t == "i32" and self.chance(40) else divisor
        if literal:
            return self.pick(LITERALS[t] + (CONSTANTS[t],))
        return self.expression(t, context, depth)

    def expr_unary(self, t, context, depth):
        operand = self.expression(t, context, depth)
        op = self.pick(("-", "abs", "+") if t == "f32" else ("-", "~", "abs", "+"))
        return f"abs({operand})" if op == "abs" else f"({op}{operand})"

    def expr_minmax(self, t, context, depth):
        fn = self.pick(("min", "max"))
        return f"{fn}({self.expression(t, context, depth)}, {self.expression(t, context, depth)})"

    def expr_vector_component(self, t, context, depth):
        """A component or (for floats) a dot product of a vector expression."""
        n = self.pick((2, 4))
        vector = self.vector(t, n, context, depth)
        if t == "f32" and self.chance(30):
            return f"dot({vector}, {self.vector(t, n, context, depth)})"
        return f"{vector}.{self.pick('xyzw'[:n])}"

    def vector(self, t, n, context, depth):
        """A ``VECTORS[t]``-typed vector expression of ``n`` components."""
        constructor = f"{VECTORS[t]}{n}"
        kind = self.pick(("construct", "splat", "binary", "scalar", "swizzle", "negate") if depth > 0 else
                         ("construct", "splat"))
        if kind == "construct":
            return f"{constructor}({', '.join(self.expression(t, context, depth - 1) for _ in range(n))})"
        if kind == "splat":
            return f"{constructor}({self.expression(t, context, max(depth - 1, 0))})"
        if kind == "binary":
            op = self.pick(("+", "-", "*"))
            return f"({self.vector(t, n, context, depth - 1)} {op} {self.vector(t, n, context, depth - 1)})"
        if kind == "scalar":
            op = self.pick(("+", "-", "*"))
            return f"({self.vector(t, n, context, depth - 1)} {op} {self.expression(t, context, depth - 1)})"
        if kind == "negate":
            return f"(-{self.vector(t, n, context, depth - 1)})"
        other = 6 - n  # a vec4 from a vec2 and back
        letters = "".join(self.pick("xy" if other == 2 else "xyzw") for _ in range(n))
        return f"{self.vector(t, other, context, depth - 1)}.{letters}"

    def expr_clamp(self, t, context, depth):
        low, high = self.pick({"i32": (("-5", "100"), ("0", "2147483647")), "u32": (("3", "70000"),),
                               "f32": (("-1.5", "2.0"), ("0.0", "1.0"))}[t])
        return f"clamp({self.expression(t, context, depth)}, {t}({low}), {t}({high}))"

    def expr_true_division(self, t, context, depth):
        """``/`` between integers is true division in f64 (numpy's rule), here converted back to f32."""
        source = self.pick(("i32", "u32"))
        dividend = self.expression(source, context, depth)
        return f"f32({dividend} / {self.right_operand(source, '//', context, depth)})"

    def expr_conditional(self, t, context, depth):
        a, b = self.expression(t, context, depth), self.expression(t, context, depth)
        condition = self.condition(context, depth)
        return f"select({condition}, {a}, {b})" if self.chance(20) else f"({a} if {condition} else {b})"

    def expr_cast(self, t, context, depth):
        """A value of another type converted to ``t``, including mixed-type arithmetic (i64, f64)."""
        source = self.pick([s for s in TYPES if s != t] + ["mixed"])
        if source == "mixed":
            value, is_float = self.mixed(context, depth)
        else:
            value, is_float = self.expression(source, context, depth), source == "f32"
        if t == "f32":
            return f"f32({value})"
        if is_float:  # clamped first: an out-of-range float to int conversion is undefined
            return self.float_to_int(t, value)
        return f"{t}({value})"

    def float_to_int(self, t, value):
        """``value`` (a float expression) as ``t``, through the clamping helpers the module defines."""
        return f"{'f2i' if t == 'i32' else 'f2u'}({value})"

    def mixed(self, context, depth):
        """Arithmetic between two types (numpy promotes i32 with u32 to i64, ints with f32 to f64), and
        whether the result is a float."""
        a, b = self.pick((("i32", "u32"), ("u32", "i32"), ("f32", "i32"), ("u32", "f32")))
        is_float = "f32" in (a, b)
        op = self.pick(("+", "-", "*") if is_float else ("+", "-", "*", "&", "|", "^"))
        return f"({self.expression(a, context, depth)} {op} {self.expression(b, context, depth)})", is_float

    def expr_helper_call(self, t, context, depth):
        return self.call(self.pick(self.callable_helpers(context, result=t)), context)

    def call(self, helper, context):
        return f"{helper.name}({', '.join(self.expression(p, context, 1) for p in helper.params)})"

    def callable_helpers(self, context, result=None, tuple_results=False):
        return [h for h in self.helpers if h.cost <= context.budget
                and (len(h.results) > 1 if tuple_results else h.results == (result,))]

    def condition(self, context, depth):
        """A bool: comparisons (chained too), ``not``, ``and``, ``or``."""
        flags = [n for n, vt in context.variables.items() if vt == "bool"]
        kind = self.pick(self.condition_kinds if depth > 0 else ("compare",))
        if flags and self.chance(20):
            return self.pick(flags)
        if kind in ("and", "or"):
            return f"({self.condition(context, depth - 1)} {kind} {self.condition(context, depth - 1)})"
        if kind == "not":
            return f"(not {self.condition(context, depth - 1)})"
        t = self.pick(TYPES)
        terms = [self.expression(t, context, max(depth - 1, 0)) for _ in range(3 if kind == "chain" else 2)]
        ops = [self.pick(COMPARISONS) for _ in terms[1:]]
        return "(" + terms[0] + "".join(f" {op} {term}" for op, term in zip(ops, terms[1:])) + ")"


def generate(choices, limits=Limits()):
    """The source of one random module with helpers and the kernel ``kern``."""
    return Generator(choices, limits).module()


# ---- element-wise mode ---------------------------------------------------------------------------------
# Kernels of the shape the ``vectorize`` pass rewrites (docs/language.md, "Element-wise kernels"): one index
# ``i = global_id().x``, a bounds guard, straight-line code that reads and writes 1-D buffers only at ``i``,
# and ``if`` statements only on uniform conditions (scalar parameters). Same UB-free expression rules as
# above, without what the pass declines: vectors, helper calls, other ids, other indices, loops, returns.
ELEMENTWISE_SIGNATURE = ", ".join([f"{INPUT[t]}: Buffer[{t}]" for t in TYPES]
                                  + [f"{OUTPUT[t]}: Buffer[{t}]" for t in TYPES]
                                  + [f"{SCALAR[t]}: {t}" for t in TYPES] + ["n: i32"])
ELEMENTWISE_PRELUDE = '''\
import math

from legionella.lang import Buffer, clamp, f32, global_id, i32, select, u32

K_I = -7
K_U = 3
K_F = 0.25
GRID = None  # the test picks the launch sizes
'''
# The bounds guards the pass recognises, and the indentation of the body under each. ``n`` is never more
# than the arrays' length (they all have one length).
GUARDS = ((["    if i < len(oi):"], 2),
          (["    if i >= n:", "        return"], 1),
          (["    if i < len(xf) and i < n:"], 2),
          (["    if i < n and i < len(ou):"], 2))
# Float to int without undefined behaviour and without a helper (calls in conditional operands are not
# inlined, and a call left in the kernel stops the pass): NaN is 0, the rest is clamped.
FLOAT_TO_INT = {"i32": "i32(clamp(select({x} == {x}, {x}, f32(0.0)), f32(-1e9), f32(1e9)))",
                "u32": "u32(clamp(select({x} == {x}, {x}, f32(0.0)), f32(0.0), f32(4e9)))"}
# Operators of a final read-modify-write store ``out[i] op= v`` (no divisor to keep safe).
FINAL_UPDATES = {"i32": ("+", "-", "*", "^", "|", "&"), "u32": ("+", "-", "*", "^", "|", "&"), "f32": ("+", "-", "*")}


class ElementwiseGenerator(Generator):
    """Writes one element-wise module (:data:`ELEMENTWISE_SIGNATURE`): ``kern`` reads ``xi[i]``, ``xu[i]``,
    ``xf[i]`` and the outputs' own elements, and stores ``oi[i]``, ``ou[i]``, ``of[i]`` (plain or
    read-modify-write), for ``i`` below the guard's bound; ``WORKGROUP`` is its ``workgroup=``."""

    def module(self):
        workgroup = self.pick((None, (64,), (4,), (32,), (256,)))
        return (ELEMENTWISE_PRELUDE + f"WORKGROUP = {workgroup!r}  # the kernel's workgroup=, None for the default\n"
                + "\n\n" + self.elementwise_kernel())

    def elementwise_kernel(self):
        header, indent = self.pick(GUARDS)
        context = Context({"i": "i32", "n": "i32", **{SCALAR[t]: t for t in TYPES}}, in_kernel=True, returns=(),
                          in_loop=False, nesting=0, budget=0)
        lines = []
        if self.chance(85):
            lines += self.eager_loads(context)
        lines += self.block(context, indent=0)
        lines += self.math_values(context)
        lines += self.final_stores(context, indent=0)
        body = [" " * 4 * indent + line for line in lines]
        return "\n".join([f"def kern({ELEMENTWISE_SIGNATURE}):", "    i = global_id().x", *header, *body]) + "\n"

    def eager_loads(self, context):
        """``v = x[i]`` for each input: the pass lets a conditional operand read only buffers that are read or
        written unconditionally, so these keep most programs vectorizable."""
        lines = []
        for t in TYPES:
            name = self.fresh("v")
            context.variables[name] = t
            lines.append(f"{name} = {INPUT[t]}[i]")
        return lines

    def final_stores(self, context, indent):
        """Store the last variable of each type (if any) into that type's output, or read-modify-write it."""
        lines = []
        for t in TYPES:
            names = [n for n, vt in context.variables.items() if vt == t and n.startswith("v")]
            value = names[-1] if names else None
            maths = [n for n, vt in context.variables.items() if vt == "math"]
            if t == "f32" and maths:
                value = " + ".join(maths + names[-1:])
            if value:
                op = self.pick(FINAL_UPDATES[t]) if self.chance(30) else ""
                lines.append(f"{OUTPUT[t]}[i] {op}= {value}")
        return lines or ["of[i] = xf[i] * sf"]

    def block(self, context, indent):
        lines = []
        for _ in range(self.choices.integer(1, self.limits.block_statements)):
            options = ["assign", "assign", "update", "store"] + (["uniform_branch"] if context.nesting == 0 else [])
            lines.extend(" " * 4 * indent + line for line in getattr(self, self.pick(options))(context, indent))
        return lines

    def store(self, context, indent):
        t = self.pick(TYPES)
        target = f"{OUTPUT[t]}[i]"
        if self.chance(30):  # read-modify-write of the element
            op = self.pick(AUGMENTABLE[t])
            return [f"{target} {op}= {self.right_operand(t, op, context, self.limits.expression_depth - 1)}"]
        return [f"{target} = {self.expression(t, context, self.limits.expression_depth)}"]

    def uniform_branch(self, context, indent):
        """An ``if`` on scalar parameters only (the same for every element), with an optional ``else``."""
        uniform = Context({n: t for n, t in context.variables.items() if n in SCALAR.values() or n == "n"},
                          in_kernel=False, returns=(), in_loop=False, nesting=1, budget=0)
        lines = [f"if {self.condition(uniform, 1)}:", *self.sub_block(context.inner(), indent)]
        if self.chance(40):
            lines += ["else:", *self.sub_block(context.inner(), indent)]
        return lines

    def expression(self, t, context, depth):
        if depth <= 0:
            return self.leaf(t, context)
        kinds = ["leaf", "binary", "binary", "unary", "minmax", "conditional", "cast", "clamp"]
        if t == "f32":
            kinds.append("true_division")
        return getattr(self, "expr_" + self.pick(kinds))(t, context, depth - 1)

    def leaf(self, t, context):
        names = [n for n, vt in context.variables.items() if vt == t]
        kinds = ("literal",) + (("variable",) if names else ()) + (("read", "read") if context.in_kernel else ())
        kind = self.pick(kinds + (("length",) if t == "i32" and context.in_kernel else ()))
        if kind == "variable":
            return self.pick(names)
        if kind == "read":  # an input's or an output's own element
            return f"{self.pick((INPUT, OUTPUT))[t]}[i]"
        if kind == "length":
            return self.pick(("len(xi)", "len(of)"))
        return f"{t}({self.pick(LITERALS[t])})"

    def float_to_int(self, t, value):
        """Inline, not through a helper: a helper call inside a conditional operand is not inlined, and
        the vectorize pass then declines the kernel."""
        return FLOAT_TO_INT[t].format(x=value)

    def math_values(self, context):
        """0 to 2 ``math`` calls (arguments kept in their domain; ``math.floor`` gives an i32, so its argument
        is clamped like a float to int conversion) into ``m`` variables, which only the final
        ``of`` store uses: the device rounds them differently from the emulator's float64, which a
        comparison or an integer conversion would turn into a different branch or integer."""
        lines = []
        for _ in range(self.choices.integer(0, 2)):
            x = self.expression("f32", context, self.limits.expression_depth - 1)
            call = self.pick((f"math.sqrt(abs({x}))", f"math.sin(clamp({x}, f32(-10.0), f32(10.0)))",
                              f"math.exp(min({x}, f32(10.0)))", f"math.log(abs({x}) + 1.0)",
                              "math.floor(clamp(select({x} == {x}, {x}, f32(0.0)), f32(-1e9), f32(1e9)))".format(x=x),
                              f"math.tanh({x})"))
            name = self.fresh("m")
            context.variables[name] = "math"
            lines.append(f"{name} = {call}")
        return lines


def generate_elementwise(choices, limits=Limits()):
    """The source of one element-wise module (see :class:`ElementwiseGenerator`)."""
    return ElementwiseGenerator(choices, limits).module()
