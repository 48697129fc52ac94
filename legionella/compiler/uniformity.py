"""Refusing a ``barrier()`` that not every invocation of a workgroup reaches, where the source shows it.

Every invocation must reach the same barrier: one reached only by some hangs the device or corrupts
shared memory. A barrier is *divergent* when it stands under an ``if``/``while``/``for`` whose condition
(or range) depends on the invocation id, in a loop that some invocations leave early (a ``break``,
``continue`` or ``return`` under such a condition), after a ``return`` under such a condition, or in a
branch of a conditional expression or a later operand of ``and``/``or`` decided by such a condition.

"Depends on the invocation id" is a taint analysis over one function's AST, run to a fixed point:
``global_id()`` and ``local_id()`` are tainted, and so is every name assigned from a tainted
expression or assigned anywhere inside a divergent region (it then differs between invocations).
``group_id()``, ``num_groups()``, parameters and shapes are the same across a workgroup. A call of a
helper that reaches a barrier is checked like a barrier. What the analysis cannot see (ids passed to a
helper as arguments, ids hidden in buffer contents) is left to the user, as in GLSL.
"""
import ast

from ..lang import intrinsics as lang
from .ir import BufferRef, Expr

ID_SOURCES = (lang.global_id, lang.local_id)
_LOOPS = (ast.While, ast.For)
_EXITS = (ast.Break, ast.Continue, ast.Return)


class Uniformity:
    """The divergent statements of one function: ``cause(stmt)`` is the AST node (a condition, loop or
    return) that makes ``stmt`` run in only some invocations, or None."""

    def __init__(self, fc):
        self.fc = fc
        self.tainted = set()
        self.divergent_loops = set()  # id() of loops some invocations leave early
        self.causes = {}
        while True:
            before = (len(self.tainted), len(self.divergent_loops))
            self.causes = {}
            self.block(fc.src.tree.body, None, [])
            if (len(self.tainted), len(self.divergent_loops)) == before:
                break

    def cause(self, stmt):
        return self.causes.get(id(stmt))

    # ---- taint ---------------------------------------------------------------------------------
    def is_id_call(self, node):
        if not isinstance(node, ast.Call) or not isinstance(node.func, (ast.Name, ast.Attribute)):
            return False
        try:
            obj = self.fc.static(node.func)
        except Exception:  # unresolvable here; the frontend reports it where it is compiled
            return False
        return any(obj is source for source in ID_SOURCES)

    def depends_on_id(self, node):
        return node is not None and any(
            (isinstance(n, ast.Name) and n.id in self.tainted) or self.is_id_call(n) for n in ast.walk(node))

    def taint_targets(self, target):
        """Taint the locals an assignment target changes: names, and the local vector of ``v.x = ...`` or
        ``v[0] = ...``; a store into a buffer or shared array changes memory, which is not tracked."""
        if isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self.taint_targets(element)
        elif isinstance(target, ast.Name):
            self.tainted.add(target.id)
        elif isinstance(target, (ast.Attribute, ast.Subscript)) and isinstance(target.value, ast.Name):
            if not isinstance(getattr(self.fc.scope.get(target.value.id), "obj", None), BufferRef):
                self.tainted.add(target.value.id)

    # ---- regions -------------------------------------------------------------------------------
    def block(self, stmts, cause, loops):
        """Walk a statement list in order; ``cause`` makes the whole list divergent; ``loops`` are the
        enclosing loop statements (innermost last)."""
        for s in stmts:
            if cause is not None:
                self.causes[id(s)] = cause
            self.statement(s, cause, loops)
            if cause is None and isinstance(s, (ast.If, *_LOOPS)):
                cause = self.divergent_return(s)

    def statement(self, s, cause, loops):
        if isinstance(s, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            if cause is not None or self.depends_on_id(s.value):
                for target in (s.targets if isinstance(s, ast.Assign) else [s.target]):
                    self.taint_targets(target)
        elif isinstance(s, ast.If):
            inner = cause or (s.test if self.depends_on_id(s.test) else None)
            self.block(s.body, inner, loops)
            self.block(s.orelse, inner, loops)
        elif isinstance(s, _LOOPS):
            condition = s.test if isinstance(s, ast.While) else s.iter
            inner = cause or (condition if self.depends_on_id(condition) else None) or \
                (s if id(s) in self.divergent_loops else None)
            if isinstance(s, ast.For) and (inner is not None or self.depends_on_id(s.iter)):
                self.taint_targets(s.target)
            self.block(s.body, inner, [*loops, s])
        elif isinstance(s, _EXITS) and cause is not None:
            exited = loops if isinstance(s, ast.Return) else loops[-1:]
            self.divergent_loops.update(id(loop) for loop in exited)
            if isinstance(s, ast.Return):
                self.causes[("return", id(s))] = cause

    def divergent_return(self, compound):
        """The return under an id-dependent condition inside ``compound``, if any: what follows it is
        reached only by the invocations that did not return."""
        for n in ast.walk(compound):
            if isinstance(n, ast.Return) and ("return", id(n)) in self.causes:
                return n
        return None


def _statement_of(tree, node):
    """The statement whose own expressions contain AST node ``node``: a simple statement, or the test of
    an ``if``/``while`` or the iterable of a ``for``."""
    for stmt in ast.walk(tree):
        if isinstance(stmt, ast.FunctionDef) or not isinstance(stmt, ast.stmt):
            continue
        own = [getattr(stmt, "test", None) or getattr(stmt, "iter", None)] if isinstance(
            stmt, (ast.If, *_LOOPS)) else [stmt]
        if any(n is node for part in own if part is not None for n in ast.walk(part)):
            return stmt
    return None


def _contains(tree, node):
    return any(n is node for n in ast.walk(tree))


def _conditional_cause(analysis, stmt, call):
    """The id-dependent test inside ``stmt`` that decides whether ``call`` runs at all: the condition of a
    conditional expression with the call in a branch, or an operand of ``and``/``or`` before the one with
    the call (``x if l < 4 else f(t)``, ``l < 4 and f(t) > 0``); None when there is none."""
    for node in ast.walk(stmt):
        if isinstance(node, ast.IfExp) and (_contains(node.body, call) or _contains(node.orelse, call)):
            if analysis.depends_on_id(node.test):
                return node.test
        elif isinstance(node, ast.BoolOp):
            for k, value in enumerate(node.values):
                if _contains(value, call):
                    earlier = [v for v in node.values[:k] if analysis.depends_on_id(v)]
                    if earlier:
                        return earlier[0]
    return None


def _describe(fc, cause):
    loc = fc.loc(cause)
    text = (fc.src.line_text(loc.line) or "").strip()
    if isinstance(cause, ast.Return):
        what = "a return under a condition that depends on the invocation id"
    elif isinstance(cause, _LOOPS):
        what = "a loop that some invocations leave early (break/continue/return under an id-dependent condition)"
    else:
        what = "a condition that depends on the invocation id (global_id()/local_id())"
    return f"{what}, at line {loc.line}: {text}"


def check_barrier(fc, call, what="barrier()"):
    """Raise a located CompileError when the barrier() call ``call`` (or a call of a helper that reaches a
    barrier, described by ``what``) is divergent (see the module doc)."""
    analyses = fc.ctx.uniformity
    key = id(fc.src.tree)
    if key not in analyses:
        analyses[key] = Uniformity(fc)
    stmt = _statement_of(fc.src.tree, call)
    analysis = analyses[key]
    cause = (analysis.cause(stmt) or _conditional_cause(analysis, stmt, call)) if stmt is not None else None
    if cause is not None:
        raise fc.error(call, f"{what} is reached by only some invocations of the workgroup, because of "
                             f"{_describe(fc, cause)}. Every invocation must reach the same barrier() (otherwise "
                             "the device hangs or corrupts shared memory); move it out of the condition")


def reaches_barrier(function, seen=None):
    """Whether an IR function, or a helper it calls, executes a barrier()."""
    seen = set() if seen is None else seen
    if function in seen:
        return False
    seen.add(function)

    def in_expr(e):
        return e.op == "barrier" or (e.op == "call" and reaches_barrier(e.attr, seen)) or any(map(in_expr, e.args))

    def in_statements(stmts):
        for s in stmts:
            exprs = [getattr(s, field, None) for field in ("value", "index", "cond")]
            if any(in_expr(e) for e in exprs if isinstance(e, Expr)):
                return True
            if any(in_statements(getattr(s, child, ())) for child in ("body", "orelse", "step")):
                return True
        return False

    return in_statements(function.body)
