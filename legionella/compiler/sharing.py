"""Refusing a component store whose result in Python depends on two names sharing one vector or matrix.

In plain Python (and so in ``kernel.emulate``) a :class:`~legionella.lang.types.Vector` or ``Matrix`` is a
mutable object: after ``w = v``, ``w.x = 5.0`` changes ``v`` too, and a helper's ``v.x = 1.0`` changes
the caller's vector. On the device every value is a copy. Rather than let the two disagree, a component
store (``w.x = ...``, ``w.xy = ...``, ``w[0] = ...``, ``m[j] = ...``) into a local vector or matrix is
refused when it may run after an assignment that makes two names share (after: later in the source, or
in a loop around both; which branch runs is not considered, so the check is conservative):

1. the local is assigned an expression that may be an existing object (a name, a struct field or module
   attribute, ``+v``, a conditional expression of those): ``w = v``;
2. the local is that expression for another local: ``w = v`` refuses ``v.x = ...`` as well;
3. the local is a parameter, unless the function's first statement that mentions it rebinds it to a
   fresh value at the top level (``v = vec3(v)``).

Fresh values (constructors, arithmetic, swizzle reads, buffer loads ``a[i]``, helper results) are
never shared: Python builds new objects for them, so storing into them is the same in both worlds.
The scan of the function's AST is done once (:class:`Scan`); which attributes are swizzles needs the
compiler's scope, so that part is decided at the store (:func:`check_component_store`).
"""
import ast

from ..errors import CompileError
from ..lang.types import MatrixType, StructType, VectorType
from .ir import BufferRef


class Scan:
    """The assignments of one function that may make two names share an object, and its parameters.

    ``pairs`` holds ``(name, value node, statement)`` for every ``name = value`` (tuple unpacking of a
    tuple literal pairwise, annotated assignments too); ``params`` the parameter names; ``rebound`` those
    whose first mention at the top level is a plain rebinding ``v = <expression>`` (checked for
    freshness at the store)."""

    def __init__(self, src):
        tree = src.tree
        self.pairs = [pair for node in src.nodes for pair in _assigned_pairs(node)]
        self.loops = {}  # id(node) -> the ids of the loops around it
        _record_loops(tree, (), self.loops)
        args = tree.args
        self.params = {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}
        self.rebound = {}  # parameter name -> the value node of its rebinding
        for name in self.params:
            first = next((s for s in tree.body if _mentions(s, name)), None)
            value = _rebinding_value(first, name)
            if value is not None:
                self.rebound[name] = value


    def may_run_after(self, stmt, node):
        """Whether ``node`` may run after ``stmt``: it comes later in the source, or a loop holds both
        (structured control flow runs a function in source order, except for loops)."""
        later = (node.lineno, node.col_offset) > (stmt.lineno, stmt.col_offset)
        return later or not set(self.loops[id(stmt)]).isdisjoint(self.loops[id(node)])


def _record_loops(node, loops, out):
    out[id(node)] = loops
    inner = (*loops, id(node)) if isinstance(node, (ast.For, ast.While)) else loops
    for child in ast.iter_child_nodes(node):
        _record_loops(child, inner, out)


def _assigned_pairs(node):
    """``(name, value node, statement)`` for each name an assignment statement binds to one expression."""
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
        return [(node.target.id, node.value, node)]
    if not isinstance(node, ast.Assign) or len(node.targets) != 1:
        return []
    target = node.targets[0]
    if isinstance(target, ast.Name):
        return [(target.id, node.value, node)]
    if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
        return [(t.id, v, node) for t, v in zip(target.elts, node.value.elts) if isinstance(t, ast.Name)]
    return []


def _mentions(stmt, name):
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(stmt))


def _rebinding_value(stmt, name):
    """The value of ``name = value`` (or ``name: T = value``) if ``stmt`` is exactly that, else None."""
    pairs = _assigned_pairs(stmt) if isinstance(stmt, (ast.Assign, ast.AnnAssign)) else []
    return pairs[0][1] if len(pairs) == 1 and pairs[0][0] == name else None


def _shared_sources(fc, value):
    """The expressions ``value`` may evaluate to as an existing object in Python (empty when fresh):
    names, non-swizzle attributes, through ``+x`` (which returns ``x`` itself) and ``a if c else b``."""
    if isinstance(value, ast.Name):
        return [value]
    if isinstance(value, ast.Attribute):
        return [] if _is_vector_in_python(fc, value.value) else [value]
    if isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.UAdd):
        return _shared_sources(fc, value.operand)
    if isinstance(value, ast.IfExp):
        return _shared_sources(fc, value.body) + _shared_sources(fc, value.orelse)
    return []


def _is_vector_in_python(fc, node):
    """Whether ``node`` is a Vector in Python, so that ``node.attr`` is a swizzle: a new Vector (or an
    immutable scalar). Buffer elements ``a[i]`` and matrix columns ``m[j]`` are copies; a struct
    element's field is a view of the buffer; anything the compiler cannot type here counts as shared."""
    if isinstance(node, ast.Subscript):
        base = _compiled(fc, node.value)
        ref = getattr(base, "obj", None)
        return not (isinstance(ref, BufferRef) and isinstance(ref.type.element, StructType))
    if isinstance(node, ast.Name) and node.id in fc.assigned:
        return True  # a local: a vector wherever an attribute of it compiles
    if isinstance(node, (ast.Call, ast.BinOp, ast.UnaryOp)):
        return True  # a new object: any attribute of it is fresh or fails to compile elsewhere
    return isinstance(getattr(_compiled(fc, node), "type", None), VectorType)


def _compiled(fc, node):
    """What the compiler makes of ``node`` now, or None where it cannot yet (a local assigned later)."""
    try:
        return fc.visit(node)
    except CompileError:
        return None


def _copy_hint(t, source):
    """How to write a fresh copy of ``source`` of type ``t``."""
    return f"{t.name}({source})" if isinstance(t, VectorType) else f"{source} * 1.0"


def check_component_store(fc, target):
    """Refuse the component store ``target`` (``w.x``, ``w[0]``, ``m[j]`` with ``w``/``m`` a local) where
    Python and the device would disagree because of sharing (the module docstring gives the rules).

    >>> # w = v; w.x = 5.0   ->  CompileError: 'w' may share its vector with 'v' ... copy it first: w = vec3(v)
    """
    name = target.value.id
    t = fc.scope[name].type
    if not isinstance(t, (VectorType, MatrixType)):
        return
    kind = "vector" if isinstance(t, VectorType) else "matrix"
    store = ast.unparse(target)
    scan = fc.sharing
    for dst, value, stmt in scan.pairs:
        if (dst != name and not _mentions(value, name)) or not scan.may_run_after(stmt, target):
            continue
        sources = [ast.unparse(s) for s in _shared_sources(fc, value)]
        line = fc.loc(stmt).line
        if dst == name and any(s != name for s in sources):
            src = next(s for s in sources if s != name)
            raise fc.error(target, f"'{name}' may share its {kind} with '{src}' ({name} = {ast.unparse(value)}, "
                                   f"line {line}): in Python, changing {store} would change {src} too, but not "
                                   f"on the device; copy it first: {name} = {_copy_hint(t, src)}")
        if dst != name and name in sources:
            raise fc.error(target, f"'{name}' is shared with '{dst}' ({dst} = {ast.unparse(value)}, line {line}): "
                                   f"in Python, changing {store} would change {dst} too, but not on the device; "
                                   f"copy it there: {dst} = {_copy_hint(t, name)}")
    rebinding = scan.rebound.get(name)
    if name in scan.params and (rebinding is None or _shared_sources(fc, rebinding)):
        raise fc.error(target, f"'{name}' is a parameter: in Python, changing {store} would change the caller's "
                               f"{kind} too, but not on the device; copy it first, before any other use of "
                               f"'{name}': {name} = {_copy_hint(t, name)}")

