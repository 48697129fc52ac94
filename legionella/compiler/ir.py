"""The typed intermediate representation between the frontend and SPIR-V lowering.

A kernel is a tree of statements over typed expressions; every node carries the :class:`Loc` of the
Python source it came from, so a pass or the lowering can report errors at the user's line, and the
lowering emits ``OpLine`` for it. Locals are mutable variables (:class:`Var`), not SSA values: the
driver's own optimiser promotes them to registers, and Python's assignment semantics map onto them
directly.

Expressions are one class, :class:`Expr`, with an ``op`` string (the table below), a lang ``type``,
operand ``args`` and a per-op ``attr``; that uniform shape lets the passes walk and rebuild any
expression with one function. Ops:

=============  =====================================================================================
``const``      ``attr``: the value (Python scalar or tuple for a vector)
``local``      read a :class:`Var` (``attr``)
``push``       read push-constant member ``attr`` (scalar parameters)
``shape``      ``attr = (buffer, k)``: dimension ``k`` of a buffer (i32)
``load``       ``attr = (buffer, path)``: element ``args[0]`` (linear index) of a buffer, then member path
``builtin``    ``attr``: ``global_id``, ``local_id``, ``group_id``, ``num_groups``, ``workgroup_size``
``binop``      ``attr``: add sub mul truediv floordiv mod pow lshift rshift bitand bitor bitxor min max
``cmp``        ``attr``: eq ne lt le gt ge (operands already of one type)
``unop``       ``attr``: neg invert not
``convert``    numeric conversion of ``args[0]`` to ``type``
``select``     ``args = (cond, a, b)``, both sides evaluated
``and``/``or`` short-circuit boolean operators
``ifexp``      ``args = (cond, a, b)``, only the chosen side evaluated
``let``        ``attr``: a Var; stores ``args[0]`` into it, then evaluates ``args[1]``
``call``       ``attr``: the callee :class:`Function`
``ext``        ``attr``: a GLSL.std.450 instruction name (``"Sqrt"``)
``dot``        dot product of two float vectors
``isnan``      ``isinf``: float classification
``construct``  a vector, matrix or tuple from ``args``
``extract``    ``attr``: component index of ``args[0]``
``shuffle``    ``attr``: tuple of component indices of ``args[0]`` (a swizzle)
``insert``     ``attr``: component index; ``args = (composite, value)``
``splat``      a vector (``type``) with every component ``args[0]`` (made by the ``vectorize`` pass)
``matmul``     ``attr``: MatrixTimesVector, VectorTimesMatrix, MatrixTimesMatrix or MatrixTimesScalar
``matrix_map`` ``attr``: add sub mul truediv neg, element-wise over matrices (a scalar operand splats)
``transpose``  the transpose of matrix ``args[0]``
``atomic``     ``attr = (buffer, op)``: atomic ``op`` on element ``args[0]``; ``args[1:]`` the operands; the old value
``barrier``    workgroup barrier (no value)
``subgroup``   ``attr``: add min max broadcast shuffle ballot size (see :mod:`.workgroup`)
=============  =====================================================================================
"""
import dataclasses
import itertools


@dataclasses.dataclass(frozen=True)
class Loc:
    """A source position: file name, 1-based line and 1-based column."""
    filename: str
    line: int
    col: int

    def __str__(self):
        return f"{self.filename}:{self.line}:{self.col}"


class Var:
    """A local variable of one function; ``uid`` makes names unique and dumps deterministic."""
    __slots__ = ("name", "type", "uid")
    _counter = itertools.count()

    def __init__(self, name, type):
        self.name = name
        self.type = type
        self.uid = next(Var._counter)

    def __repr__(self):
        return f"%{self.name}"


@dataclasses.dataclass(frozen=True, eq=False)
class BufferRef:
    """A buffer the kernel reads or writes: a parameter (set 0, binding = its index among the buffer
    parameters) or a ``# legionella: binding`` global (its declared set and binding); its shape lives in
    the push constants from member ``shape_member`` on."""
    name: str
    type: object  # BufferType
    binding: int
    shape_member: int  # index of its first shape word among the push-constant members
    descriptor_set: int = 0
    declaration: object = None  # the BindingDecl of a global, else None

    def __repr__(self):
        return self.name


class Expr:
    """A typed expression node (see the module docstring for the ops)."""
    __slots__ = ("op", "type", "args", "attr", "loc")

    def __init__(self, op, type, args=(), attr=None, loc=None):
        self.op = op
        self.type = type
        self.args = tuple(args)
        self.attr = attr
        self.loc = loc

    def with_args(self, args):
        """A copy of this node with other operands."""
        return Expr(self.op, self.type, args, self.attr, self.loc)

    def __repr__(self):
        return format_expr(self)


# Ops with an effect beyond their value (a helper may store; an atomic updates memory; a barrier
# synchronises the workgroup): an expression statement of one is kept, and it is never evaluated
# speculatively, moved or merged by the passes.
EFFECT_OPS = {"call", "atomic", "barrier"}
# Ops whose value depends only on their operands (no memory, no effect): the passes may merge, move or
# compare them structurally. Never "load": a store in between, through any parameter, may change the
# element, since one array may be passed for several parameters.
PURE_OPS = frozenset({"binop", "cmp", "unop", "convert", "select", "ext", "dot", "construct", "extract",
                      "shuffle", "insert", "builtin", "splat"})


def has_effect(e):
    """Whether evaluating ``e`` does something besides computing its value."""
    return e.op in EFFECT_OPS or e.op == "let" or any(has_effect(a) for a in e.args)


@dataclasses.dataclass(eq=False)
class Stmt:
    """Base of statements; ``loc`` is the statement's source position."""
    loc: Loc


@dataclasses.dataclass(eq=False)
class Assign(Stmt):
    """``var = value`` (a local)."""
    var: Var
    value: Expr


@dataclasses.dataclass(eq=False)
class Store(Stmt):
    """``buffer[index].path = value``; ``index`` is the linear element index."""
    buffer: BufferRef
    index: Expr
    path: tuple
    value: Expr


@dataclasses.dataclass(eq=False)
class ExprStmt(Stmt):
    """An expression evaluated for its effect (a call)."""
    value: Expr


@dataclasses.dataclass(eq=False)
class If(Stmt):
    """``if cond: body else: orelse``."""
    cond: Expr
    body: list
    orelse: list


@dataclasses.dataclass(eq=False)
class Loop(Stmt):
    """``while cond: body`` with ``step`` run at the continue target (``for`` loops' increment)."""
    cond: Expr
    body: list
    step: list


@dataclasses.dataclass(eq=False)
class Break(Stmt):
    """Leave the innermost loop."""
    pass


@dataclasses.dataclass(eq=False)
class Continue(Stmt):
    """Go to the innermost loop's step and next check."""
    pass


@dataclasses.dataclass(eq=False)
class Return(Stmt):
    """Return (a value from a helper)."""
    value: Expr = None


TERMINATORS = (Break, Continue, Return)


@dataclasses.dataclass(eq=False)
class Function:
    """One compiled function: the kernel entry point or one specialisation of a helper."""
    name: str
    params: list  # of Var
    return_type: object  # a lang type, TupleType, or None for no value
    body: list
    loc: Loc
    is_kernel: bool = False
    calls: list = dataclasses.field(default_factory=list)  # callee Functions, in first-call order


@dataclasses.dataclass
class Program:
    """What the frontend hands the passes and the lowering: the kernel, its helpers, its interface."""
    kernel: Function
    helpers: list  # of Function, callees before callers
    buffers: list  # of BufferRef
    push_members: list  # of (name, lang type, byte offset), after the 32-byte header
    workgroup: tuple
    params: list  # of artifact.Param
    push_size: int  # bytes of push constants, header included
    written: set  # the BufferRefs some function stores into
    shared: list = dataclasses.field(default_factory=list)  # workgroup.SharedRefs the kernel declares
    globals: list = dataclasses.field(default_factory=list)  # of artifact.GlobalBinding
    vector_width: int = 1  # elements per invocation the vectorize pass may give an element-wise kernel
    elements_per_invocation: int = 1  # what it gave this one (the launcher divides grid x by it)
    aliased: bool = False  # buffers may share memory: every buffer variable is decorated Aliased

    @property
    def functions(self):
        """Helpers (callees first) then the kernel."""
        return [*self.helpers, self.kernel]


# ---- walking the IR: one set of walkers for every pass ---------------------------------------------
def all_stmts(stmts):
    """Every statement of ``stmts``, each followed by those of its nested blocks (an ``if``'s branches,
    a loop's body and step), in program order."""
    for s in stmts:
        yield s
        for child in ("body", "orelse", "step"):
            yield from all_stmts(getattr(s, child, ()))


def stmt_exprs(s):
    """The expressions statement ``s`` evaluates itself, an ``if``'s or loop's condition included (not
    those of its nested blocks)."""
    if isinstance(s, (Assign, ExprStmt)):
        return [s.value]
    if isinstance(s, Store):
        return [s.index, s.value]
    if isinstance(s, (If, Loop)):
        return [s.cond]
    if isinstance(s, Return) and s.value is not None:
        return [s.value]
    return []


def walk_expr(e):
    """``e`` and every expression inside it, parents first."""
    yield e
    for a in e.args:
        yield from walk_expr(a)


def all_exprs(stmts):
    """Every expression ``stmts`` evaluate, nested blocks and subexpressions included, in program order."""
    for s in all_stmts(stmts):
        for top in stmt_exprs(s):
            yield from walk_expr(top)


def node_key(e, args):
    """A hashable key of expression node ``e`` whose operands have the keys ``args``: for pure operations,
    equal keys mean equal values (cse and sink compare expressions by it)."""
    attr = e.attr if not isinstance(e.attr, tuple) else tuple(map(str, e.attr))
    return (e.op, e.type, str(attr), args)

def assigned_vars(stmts):
    """The locals ``stmts`` assign, by statements or ``let`` expressions, at any depth, in order of first
    assignment."""
    found = {}
    for s in all_stmts(stmts):
        if isinstance(s, Assign):
            found.setdefault(s.var)
        for top in stmt_exprs(s):
            for e in walk_expr(top):
                if e.op == "let":
                    found.setdefault(e.attr)
    return list(found)


def _name(var, names):
    """A var's display name, unique within one dump (``x``, ``x.2`` for a second Var called x)."""
    if names is None:
        return f"%{var.name}"
    if var not in names:
        taken = sum(1 for v in names if v.name == var.name)
        names[var] = var.name if not taken else f"{var.name}.{taken + 1}"
    return f"%{names[var]}"


def format_expr(e, names=None):
    """An expression as compact text for IR dumps."""
    if e.op in ("const", "builtin"):
        return f"{e.attr!r}:{e.type}" if e.op == "const" else f"{e.attr}()"
    if e.op == "local":
        return _name(e.attr, names)
    if e.op == "push":
        return f"push[{e.attr}]"
    if e.op == "shape":
        return f"{e.attr[0].name}.shape[{e.attr[1]}]"
    if e.op == "load":
        path = "".join(f".{p}" for p in e.attr[1])
        return f"{e.attr[0].name}[{format_expr(e.args[0], names)}]{path}"
    args = ", ".join(format_expr(a, names) for a in e.args)
    if e.op == "call":
        return f"{e.attr.name}({args})"
    attr = "" if e.attr is None else f".{_name(e.attr, names) if isinstance(e.attr, Var) else e.attr}"
    return f"{e.op}{attr}:{e.type}({args})"


def format_stmts(stmts, indent="  ", names=None):
    """The statement list as indented text (what ``LEGIONELLA_DUMP=ir`` prints)."""
    lines = []
    for s in stmts:
        if isinstance(s, Assign):
            lines.append(f"{indent}{_name(s.var, names)}:{s.var.type} = {format_expr(s.value, names)}")
        elif isinstance(s, Store):
            path = "".join(f".{p}" for p in s.path)
            lines.append(f"{indent}{s.buffer.name}[{format_expr(s.index, names)}]{path} = "
                         f"{format_expr(s.value, names)}")
        elif isinstance(s, ExprStmt):
            lines.append(f"{indent}{format_expr(s.value, names)}")
        elif isinstance(s, If):
            lines.append(f"{indent}if {format_expr(s.cond, names)}:")
            lines.extend(format_stmts(s.body, indent + "  ", names))
            if s.orelse:
                lines.append(f"{indent}else:")
                lines.extend(format_stmts(s.orelse, indent + "  ", names))
        elif isinstance(s, Loop):
            lines.append(f"{indent}loop while {format_expr(s.cond, names)}:")
            lines.extend(format_stmts(s.body, indent + "  ", names))
            if s.step:
                lines.append(f"{indent}continuing:")
                lines.extend(format_stmts(s.step, indent + "  ", names))
        elif isinstance(s, Return):
            lines.append(f"{indent}return" + ("" if s.value is None else f" {format_expr(s.value, names)}"))
        else:
            lines.append(f"{indent}{type(s).__name__.lower()}")
    return lines


def format_function(f):
    """A function as text for IR dumps."""
    names = {}
    params = ", ".join(f"{_name(p, names)}:{p.type}" for p in f.params)
    head = f"{'kernel' if f.is_kernel else 'func'} {f.name}({params}) -> {f.return_type}:"
    return "\n".join([head, *format_stmts(f.body, names=names)])
