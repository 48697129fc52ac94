"""The ``vectorize`` pass: element-wise 1-D kernels handle ``W`` consecutive elements per invocation
with ``W``-wide (128-bit for W = 4) loads and stores.

A kernel qualifies when, after the passes before this one, it is (be conservative: anything else is
left as it is)::

    <uniform assignments>            # scalar parameters, values computed from them
    i = global_id().x                # the only id, i32, assigned once
    if i < B1 and i < B2 ...:        # bounds that do not depend on i or on loaded values
        <body>                       # (or: if i >= B1 or ...: return, then the body)

where the body is straight-line code over 4-byte scalars (f32, i32, u32) of 1-D buffer parameters,
accessed only as ``buf[i]``; ``if`` statements in it have uniform conditions (the same for every
element); value-dependent choices (``a if c else b``, ``and``/``or``) become per-lane ``OpSelect`` and
logical operations, which is only done when every buffer they read is also read or written
unconditionally (so no lane reads where the scalar kernel would not have been allowed to). No loops,
returns inside the body, helper calls that survived inlining, atomics, barriers, workgroup memory or
other ids. A chained comparison ``a < f(x) < c`` arrives as ``let t = f(x) in a < t and t < c`` (the
frontend evaluates the middle operand once); ``t`` becomes a per-lane vector local when ``f(x)`` differs
between lanes, and the ``let`` is evaluated where the scalar kernel evaluates it, so its operand obeys
the same rule about conditionally read buffers as any other.

The rewritten kernel, for the invocation ``g`` of a launch of ``ceil(groups / W)`` workgroups::

    base = W * g
    if base + W - 1 < B1 and ... and base + W - 1 < limit:   # all W lanes in range: vector path
        <body with buf[i] -> buf_vec[g], i -> (base, base + 1, ...), scalars splat>
    else:                                                    # the edge: the scalar body per lane
        for lane in range(W):
            i = base + lane
            if i < limit and i < B1 and ...: <body>

``limit`` is the number of invocations the scalar kernel would have had (``num_groups().x`` of the
user's launch, which the runtime writes into the header, times the workgroup width), so lanes the
scalar kernel never ran stay untouched even when the bounds are larger than the grid.

Each buffer gets a second view, ``buf.vecW``: another StorageBuffer variable at the same set and
binding whose runtime array has ``W``-vector elements (stride ``4 W``), which needs every buffer bound
at a multiple of ``4 W`` bytes (the runtime's allocator aligns arrays to 16; the launcher checks and
falls back to the scalar variant otherwise).

Aliasing: the same array may be passed for two parameters (``saxpy(a, y, y)``). One invocation still
touches only its own ``W`` elements, through one view per path: the vector path reads and writes only
the vector views, in the body's order, and the scalar tail only the scalar views; no two invocations
touch the same element. So every element sees exactly the loads and stores, in the same order, that
the ``W`` scalar invocations would have made, whichever buffers alias. That order is only kept by the
driver when it knows the variables may overlap: SPIR-V lets it assume that storage-buffer variables not
decorated ``Aliased`` do not, and reuse a load of ``x`` across a store to ``q``. So a launch that binds
one array to several parameters, one of them written, uses the variant compiled with
``Program.aliased`` (see :func:`~.driver.compile_kernel`), where the lowering decorates every variable,
the vector views included. The scalar and vector views of one parameter need no decoration in the
default variant: one invocation uses only one of them, and invocations touch disjoint elements.
"""
from ..lang.types import BufferType, ScalarType, VectorType, boolean, i32, u32
from .calls import BY_KIND, FLOAT_MATH, ROUNDING
from .ir import EFFECT_OPS, Assign, BufferRef, Expr, If, Loop, Return, Store, Var, has_effect

# Binary operators whose lowering works lane by lane on vectors.
LANEWISE_BINOPS = frozenset({"add", "sub", "mul", "truediv", "floordiv", "mod", "fmod", "lshift", "rshift",
                             "bitand", "bitor", "bitxor"})
# GLSL.std.450 instructions that act on each component on their own (not Length, Normalize, Cross).
LANEWISE_EXT = (frozenset(name for name, _ in FLOAT_MATH.values()) - {"Normalize", "Cross"}
                | frozenset(ROUNDING.values()) | frozenset(n for table in BY_KIND.values() for n in table.values()))
# Ops rebuilt with vector operands and a vector type, as they are.
LANEWISE_OPS = frozenset({"unop", "convert", "cmp", "select", "isnan", "isinf"})
ELEMENT_KINDS = frozenset({"f", "i", "u"})
# The ops that make an expression depend on the lane (with reads of `i` and of varying locals).
_LANE_OPS = frozenset({"load", "builtin"})


class NotElementwise(Exception):
    """The kernel does not have the shape this pass handles; it is left unchanged."""


def vectorize(program):
    """Rewrite an element-wise kernel to handle ``program.vector_width`` elements per invocation and set
    ``program.elements_per_invocation``; any other kernel is left as it is."""
    width = program.vector_width
    if width == 1 or program.shared or program.globals:  # binding globals keep one element per invocation
        return
    try:
        body, aliases = _Rewrite(program, width).kernel_body()
    except NotElementwise:
        return
    program.kernel.body = body
    program.written |= {alias for buffer, alias in aliases.items() if buffer in program.written}
    program.elements_per_invocation = width


# ---- recognising the kernel's shape ----------------------------------------------------------------
def _is_global_x(e):
    """``global_id().x`` as the frontend builds it: component 0 of the ``global_id`` builtin, i32."""
    return (e.op == "extract" and e.attr == 0 and e.type == i32 and e.args[0].op == "builtin"
            and e.args[0].attr == "global_id")


def _bound(cmp, index, below):
    """The bound ``B`` of ``i < B`` (``below``) or of ``i >= B`` (not ``below``), or None."""
    if cmp.op != "cmp":
        return None
    a, b = cmp.args
    forms = {("lt", 0), ("gt", 1)} if below else {("ge", 0), ("le", 1)}
    for attr, side in forms:
        i, other = (a, b) if side == 0 else (b, a)
        if cmp.attr == attr and i.op == "local" and i.attr is index and other.type == i32:
            return other
    return None


def _bounds(cond, index, below):
    """The bounds of ``i < B1 and i < B2 ...`` (``below``) or of ``i >= B1 or i >= B2 ...``; None for
    any other condition."""
    joiner = "and" if below else "or"
    if cond.op == joiner:
        left, right = (_bounds(c, index, below) for c in cond.args)
        return None if left is None or right is None else left + right
    bound = _bound(cond, index, below)
    return None if bound is None else [bound]


def _split(stmts):
    """``(prelude, index, index definition, bounds, body, the bounds check's Loc)`` of a kernel body."""
    prelude, index, definition = [], None, None
    for pos, s in enumerate(stmts):
        if isinstance(s, Assign) and index is None and _is_global_x(s.value):
            index, definition = s.var, s.value
        elif isinstance(s, Assign) and not has_effect(s.value) and not _lane_dependent(s.value, {index}):
            prelude.append(s)
        elif isinstance(s, If) and index is not None and not s.orelse:
            rest = stmts[pos + 1:]
            if not rest:
                bounds, body = _bounds(s.cond, index, True), s.body
            elif len(s.body) == 1 and isinstance(s.body[0], Return) and s.body[0].value is None:
                bounds, body = _bounds(s.cond, index, False), rest
            else:
                break
            if bounds is None or any(_lane_dependent(b, {index}) for b in bounds):
                break
            return prelude, index, definition, bounds, body, s.loc
        else:
            break
    raise NotElementwise


def _lane_dependent(e, varying):
    """Whether ``e`` can differ between lanes: it reads a buffer, an id or a varying local."""
    if e.op in _LANE_OPS or (e.op == "local" and e.attr in varying):
        return True
    return any(_lane_dependent(a, varying) for a in e.args)


def _pure(e):
    """Whether ``e`` does nothing but compute its value and bind the locals of its own ``let`` nodes
    (which the frontend makes fresh for each chained comparison, so nothing else reads them)."""
    return e.op not in EFFECT_OPS and all(_pure(a) for a in e.args)


def _lets(e):
    """``(var, value)`` of every ``let`` inside ``e``."""
    if e.op == "let":
        yield e.attr, e.args[0]
    for a in e.args:
        yield from _lets(a)


def _own_exprs(s):
    """The expressions a statement evaluates itself (not those of nested statements)."""
    if isinstance(s, Assign):
        return [s.value]
    if isinstance(s, Store):
        return [s.index, s.value]
    return [s.cond] if isinstance(s, If) else []


def _bindings(stmts):
    """``(var, value)`` of every Assign in a statement list, nested ones and ``let`` nodes included."""
    for s in stmts:
        if isinstance(s, Assign):
            yield s.var, s.value
        for e in _own_exprs(s):
            yield from _lets(e)
        if isinstance(s, If):
            yield from _bindings(s.body)
            yield from _bindings(s.orelse)


def _varying_locals(body, index):
    """The locals whose value can differ between lanes (to a fixed point: ``t = x[i]; u = t``)."""
    varying = {index}
    bindings = list(_bindings(body))
    while True:
        more = {var for var, value in bindings if _lane_dependent(value, varying)} - varying
        if not more:
            return varying - {index}
        varying |= more


def _eager_buffers(bounds, body):
    """Buffers every in-range lane may read: those whose length is a bound (``i < len(buf)``) and those
    the scalar kernel loads or stores at the body's top level, outside conditionally evaluated operands."""
    found = {b.attr[0] for b in bounds if b.op == "shape" and b.attr[1] == 0 and b.attr[0].type.ndim == 1}

    def visit(e):
        if e.op == "load":
            found.add(e.attr[0])
        if e.op in ("and", "or", "ifexp"):
            visit(e.args[0])
        else:
            for a in e.args:
                visit(a)

    for s in body:
        if isinstance(s, Store):
            found.add(s.buffer)
        if isinstance(s, (Assign, Store)):
            visit(s.value)
    return found


# ---- the rewrite -----------------------------------------------------------------------------------
class _Rewrite:
    """Builds the vector path and the scalar tail of one kernel (raises NotElementwise on anything
    outside the handled shape)."""

    def __init__(self, program, width):
        self.program = program
        self.width = width
        self.prelude, self.index, self.definition, self.bounds, self.body, self.loc = _split(program.kernel.body)
        bound = {var for var, _ in _bindings(self.body)}
        if self.index in bound or bound & {s.var for s in self.prelude}:
            raise NotElementwise
        self.varying = _varying_locals(self.body, self.index)
        self.eager = _eager_buffers(self.bounds, self.body)
        self.vector_vars = {}  # scalar Var -> its vector Var
        self.aliases = {}  # BufferRef -> its vector view
        self.group = Var("group", i32)  # the invocation's index: the first of its elements is W * group
        self.base = Var("base", i32)
        self.lanes = None  # Var of (base, base + 1, ...), made when the body uses i as a value

    def kernel_body(self):
        """The new kernel body and the views it uses: ``(statements, {buffer: view})``."""
        loc = self.loc  # the scaffolding belongs to the user's bounds check
        vector_body = self.stmts(self.body)
        if self.lanes is not None:
            steps = self.const(self.vector(i32), tuple(range(self.width)), loc)
            start = Expr("binop", self.vector(i32), (self.splat(self.local(self.base)), steps), attr="add", loc=loc)
            vector_body.insert(0, Assign(loc, self.lanes, start))
        last = self.plus(self.local(self.base), self.width - 1, loc)
        limit = Var("limit", u32)
        body = [*self.prelude,
                Assign(loc, self.group, self.definition),
                Assign(loc, self.base, Expr("binop", i32, (self.local(self.group), self.const(i32, self.width, loc)),
                                            attr="mul", loc=loc)),
                Assign(loc, limit, self.invocation_limit(loc)),
                If(loc, self.in_range(last, self.local(limit), loc), vector_body, self.tail(self.local(limit), loc))]
        return body, self.aliases

    # ---- helpers building IR ------------------------------------------------------------------------
    def vector(self, scalar):
        return VectorType(scalar, self.width)

    @staticmethod
    def local(var):
        return Expr("local", var.type, attr=var)

    @staticmethod
    def const(t, value, loc):
        return Expr("const", t, attr=value, loc=loc)

    def plus(self, e, k, loc):
        return Expr("binop", i32, (e, self.const(i32, k, loc)), attr="add", loc=loc)

    def splat(self, e):
        """A uniform scalar as a vector (constants directly as vector constants)."""
        t = self.vector(e.type)
        if e.op in ("const", "literal"):
            return Expr("const", t, attr=e.attr, loc=e.loc)
        return Expr("splat", t, (e,), loc=e.loc)

    def invocation_limit(self, loc):
        """How many invocations the scalar kernel would have had along x: the launch's ``num_groups().x``
        (the runtime writes the scalar kernel's count there) times the workgroup width, as u32."""
        groups = Expr("extract", i32, (Expr("builtin", VectorType(i32, 3), attr="num_groups", loc=loc),), attr=0,
                      loc=loc)
        width = self.const(u32, self.program.workgroup[0], loc)
        return Expr("binop", u32, (Expr("convert", u32, (groups,), loc=loc), width), attr="mul", loc=loc)

    def in_range(self, i, limit, loc):
        """``u32(i) < limit and i < B1 and ...`` (``i`` is never negative; u32 keeps ``limit`` exact)."""
        cond = Expr("cmp", boolean, (Expr("convert", u32, (i,), loc=loc), limit), attr="lt", loc=loc)
        for bound in self.bounds:
            cond = Expr("and", boolean, (cond, Expr("cmp", boolean, (i, bound), attr="lt", loc=loc)), loc=loc)
        return cond

    def tail(self, limit, loc):
        """The scalar kernel for each of the W lanes, in order (the edge of the data, or past it)."""
        lane = Var("lane", i32)
        i = self.local(self.index)
        step = Assign(loc, lane, self.plus(self.local(lane), 1, loc))
        body = [Assign(loc, self.index, Expr("binop", i32, (self.local(self.base), self.local(lane)), attr="add",
                                             loc=loc)),
                If(loc, self.in_range(i, limit, loc), self.body, [])]
        more = Expr("cmp", boolean, (self.local(lane), self.const(i32, self.width, loc)), attr="lt", loc=loc)
        return [Assign(loc, lane, self.const(i32, 0, loc)), Loop(loc, more, body, [step])]

    def alias(self, buffer, element):
        """The vector view of a buffer parameter of 4-byte scalars (same set and binding)."""
        if (type(buffer) is not BufferRef or buffer.declaration is not None
                or buffer.type.ndim != 1 or buffer.type.uniform or buffer.type.element != element
                or not isinstance(element, ScalarType) or element.kind not in ELEMENT_KINDS or element.bits != 32):
            raise NotElementwise
        view = self.aliases.get(buffer)
        if view is None:
            view = BufferRef(f"{buffer.name}.vec{self.width}", BufferType(self.vector(element)), buffer.binding,
                             buffer.shape_member, buffer.descriptor_set)
            self.aliases[buffer] = view
        return view

    def element_index(self, index, path):
        """The vector view's index for ``buf[i]`` (any other index is not element-wise)."""
        if path or index.op != "local" or index.attr is not self.index:
            raise NotElementwise
        return self.local(self.group)

    # ---- statements of the vector path --------------------------------------------------------------
    def stmts(self, stmts):
        return [self.stmt(s) for s in stmts]

    def stmt(self, s):
        if isinstance(s, Assign) and _pure(s.value):
            if s.var not in self.varying:
                return s  # uniform: the same scalar in every lane
            return Assign(s.loc, self.vector_var(s.var), self.expr(s.value, False))
        if isinstance(s, Store) and _pure(s.value):
            index = self.element_index(s.index, s.path)
            return Store(s.loc, self.alias(s.buffer, s.value.type), index, (), self.expr(s.value, False))
        if isinstance(s, If) and _pure(s.cond) and not _lane_dependent(s.cond, self.varying | {self.index}):
            return If(s.loc, s.cond, self.stmts(s.body), self.stmts(s.orelse))
        raise NotElementwise

    def vector_var(self, var):
        if not isinstance(var.type, ScalarType):
            raise NotElementwise
        if var not in self.vector_vars:
            self.vector_vars[var] = Var(var.name, self.vector(var.type))
        return self.vector_vars[var]

    # ---- expressions of the vector path -------------------------------------------------------------
    def expr(self, e, speculative):
        """``e`` computed for all W lanes at once; ``speculative``: the scalar kernel might not have
        evaluated it (an operand of a per-lane choice), so it may only read eagerly accessed buffers."""
        if not isinstance(e.type, ScalarType) or not _pure(e):
            raise NotElementwise
        if not _lane_dependent(e, self.varying | {self.index}):
            return self.splat(e)
        t = self.vector(e.type)
        if e.op == "local":
            return self.local(self.lane_values() if e.attr is self.index else self.vector_var(e.attr))
        if e.op == "load":
            buffer, path = e.attr
            if speculative and buffer not in self.eager:
                raise NotElementwise
            index = self.element_index(e.args[0], path)
            return Expr("load", t, (index,), attr=(self.alias(buffer, e.type), ()), loc=e.loc)
        if e.op in LANEWISE_OPS or (e.op == "binop" and e.attr in LANEWISE_BINOPS) or (
                e.op == "ext" and e.attr in LANEWISE_EXT):
            return Expr(e.op, t, [self.expr(a, speculative) for a in e.args], attr=e.attr, loc=e.loc)
        if e.op in ("and", "or"):  # both sides for every lane, then combined per lane
            args = (self.expr(e.args[0], speculative), self.expr(e.args[1], True))
            return Expr("binop", t, args, attr="bitand" if e.op == "and" else "bitor", loc=e.loc)
        if e.op == "ifexp":
            return self.choice(e, t, speculative)
        if e.op == "let":
            return self.binding(e, t, speculative)
        raise NotElementwise

    def choice(self, e, t, speculative):
        """``a if c else b``: a branch when ``c`` is uniform and a side needs one (it reads memory),
        else a per-lane select of both sides."""
        cond, a, b = e.args
        if not _lane_dependent(cond, self.varying | {self.index}) and (_reads_memory(a) or _reads_memory(b)):
            return Expr("ifexp", t, (cond, self.expr(a, speculative), self.expr(b, speculative)), loc=e.loc)
        args = (self.expr(cond, speculative), self.expr(a, True), self.expr(b, True))
        return Expr("select", t, args, loc=e.loc)

    def binding(self, e, t, speculative):
        """``let v = value in rest`` (a chained comparison's middle operand, evaluated once): ``v`` per
        lane when ``value`` varies, else the one scalar every lane reads (splat where ``rest`` uses it)."""
        var, (value, rest) = e.attr, e.args
        if var in self.varying:
            var, value = self.vector_var(var), self.expr(value, speculative)
        return Expr("let", t, (value, self.expr(rest, speculative)), attr=var, loc=e.loc)

    def lane_values(self):
        if self.lanes is None:
            self.lanes = Var("lanes", self.vector(i32))
        return self.lanes


def _reads_memory(e):
    return e.op == "load" or any(_reads_memory(a) for a in e.args)
