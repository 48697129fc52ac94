"""The optimisation pipeline: a flat, named list of passes over the IR, each switchable.

``LEGIONELLA_PASSES=-cse,-inline`` turns passes off (``none`` turns all off);
``LEGIONELLA_DUMP=ir`` prints the IR after the frontend and after every pass, ``LEGIONELLA_DUMP=spirv``
the disassembled module (both: ``ir,spirv``), to stderr. A pass that fails is named in the error.

=========  ===========================================================================================
fold       constant folding with numpy's scalar semantics (so folded code equals the emulator's result)
inline     calls of helpers that return only at their end (and never store) become the helper's body
dce        unreachable statements, constant branches and loops, stores to locals never read
vectorize  element-wise 1-D kernels handle 4 consecutive elements per invocation with vector loads and
           stores (device targets only: the runtime launches a quarter of the invocations; see
           :mod:`.vectorize`)
sink       an ``if``/``else`` whose branches both end storing to one element stores once, after it
           (before cse, which would give the two indexes different temporaries)
cse        repeated pure subexpressions within straight-line code are computed once
=========  ===========================================================================================
"""
import dataclasses
import os
import sys

import numpy as np

from .ir import (PURE_OPS, TERMINATORS, Assign, Expr, ExprStmt, If, Loop, Return, Store, Var, all_exprs,
                 all_stmts, format_function, has_effect, node_key, stmt_exprs)
from .typerules import scalar_of
from .sink import sink
from .vectorize import vectorize


# ---- helpers shared by the passes ------------------------------------------------------------------
def map_stmts(stmts, fn_expr):
    """Rebuild a statement list with every top-level expression passed through ``fn_expr``."""
    out = []
    for s in stmts:
        if isinstance(s, Assign):
            out.append(Assign(s.loc, s.var, fn_expr(s.value)))
        elif isinstance(s, Store):
            out.append(Store(s.loc, s.buffer, fn_expr(s.index), s.path, fn_expr(s.value)))
        elif isinstance(s, ExprStmt):
            out.append(ExprStmt(s.loc, fn_expr(s.value)))
        elif isinstance(s, If):
            out.append(If(s.loc, fn_expr(s.cond), map_stmts(s.body, fn_expr), map_stmts(s.orelse, fn_expr)))
        elif isinstance(s, Loop):
            out.append(Loop(s.loc, fn_expr(s.cond), map_stmts(s.body, fn_expr), map_stmts(s.step, fn_expr)))
        elif isinstance(s, Return):
            out.append(Return(s.loc, None if s.value is None else fn_expr(s.value)))
        else:
            out.append(s)
    return out


def bottom_up(fn):
    """An expression rewriter applying ``fn`` to each node after its operands."""
    def rewrite(e):
        if e.args:
            e = e.with_args([rewrite(a) for a in e.args])
        return fn(e)
    return rewrite


def is_const(e):
    """Whether an expression is a constant (typed or literal)."""
    return e.op in ("const", "literal")


# ---- fold ------------------------------------------------------------------------------------------
_NP_BINOPS = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "truediv": np.true_divide,
              "floordiv": np.floor_divide, "mod": np.mod, "fmod": np.fmod, "lshift": np.left_shift,
              "rshift": np.right_shift, "bitand": np.bitwise_and, "bitor": np.bitwise_or,
              "bitxor": np.bitwise_xor}
_NP_CMPS = {"eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal, "gt": np.greater,
            "ge": np.greater_equal}


def _scalar(e):
    return scalar_of(e.type).dtype.type(e.attr)


def _fold_node(e):
    if not e.args or not all(is_const(a) and not isinstance(a.attr, tuple) for a in e.args):
        return _identity(_fold_control(e))
    s = scalar_of(e.type)
    if s is None or e.type != s:
        return e
    with np.errstate(all="ignore"):
        if e.op == "binop" and e.attr in _NP_BINOPS:
            a, b = (_scalar(x) for x in e.args)
            if s.kind in "iu" and (e.attr in ("floordiv", "mod") and b == 0 or
                                   e.attr in ("lshift", "rshift") and not 0 <= int(b) < s.bits):
                return e  # the device decides (documented); keep it
            value = _NP_BINOPS[e.attr](a, b)
        elif e.op == "cmp":
            value = _NP_CMPS[e.attr](*(_scalar(x) for x in e.args))
        elif e.op == "unop":
            x = _scalar(e.args[0])
            value = {"neg": np.negative, "invert": np.invert, "not": np.logical_not}[e.attr](x)
        elif e.op == "convert":
            source = e.args[0]
            if s.kind in "iu" and scalar_of(source.type).kind == "f" and not np.isfinite(source.attr):
                return e
            value = s(source.attr)
        else:
            return e
    return Expr("const", e.type, attr=value.item(), loc=e.loc)


_IDENTITIES = {"add": (0, True), "sub": (0, False), "mul": (1, True)}  # op: (its unit, commutative)


def _identity(e):
    """Integer ``x + 0``, ``x - 0``, ``x * 1``, ``0 + x`` and ``1 * x`` are ``x`` (floats keep theirs:
    -0.0 + 0.0 is 0.0)."""
    if e.op != "binop" or e.attr not in _IDENTITIES or scalar_of(e.type).kind not in "iu":
        return e
    unit, commutative = _IDENTITIES[e.attr]
    left, right = e.args
    if is_const(right) and right.attr == unit and left.type == e.type:
        return left
    if commutative and is_const(left) and left.attr == unit and right.type == e.type:
        return right
    return e


def _fold_control(e):
    """Selections with a constant condition keep one side; and/or with a constant left side simplify."""
    if e.op in ("select", "ifexp") and is_const(e.args[0]):
        return e.args[1] if e.args[0].attr else e.args[2]
    if e.op in ("and", "or") and is_const(e.args[0]):
        first_wins = (not e.args[0].attr) if e.op == "and" else bool(e.args[0].attr)
        return e.args[0] if first_wins else e.args[1]
    return e


def _constant_locals(fn):
    """Locals assigned exactly once, with a constant, and not parameters: candidates for replacing their
    reads by the constant (where that assignment is sure to have run: :func:`_fold_block`)."""
    assigned = {}
    for s in all_stmts(fn.body):
        if isinstance(s, Assign):
            assigned.setdefault(s.var, []).append(s.value)
    for e in all_exprs(fn.body):
        if e.op == "let":
            assigned.setdefault(e.attr, []).append(None)
    return {v: values[0] for v, values in assigned.items()
            if len(values) == 1 and values[0] is not None and is_const(values[0]) and v not in fn.params}


def _fold_block(stmts, candidates, known):
    """Fold a statement list; reads of the ``candidates`` (see :func:`_constant_locals`) become their
    constant only after their one assignment in this list or an enclosing one, where it has surely run
    (it dominates the read). A path that did not assign it reads what the variable holds there, never
    the constant: an assignment inside an ``if`` does not reach the code after it, nor one inside a loop's
    body the loop's condition, step, or the code after the loop."""
    known = dict(known)
    rewrite = bottom_up(lambda e: known[e.attr] if e.op == "local" and e.attr in known else _fold_node(e))
    out = []
    for s in stmts:
        if isinstance(s, If):
            out.append(If(s.loc, rewrite(s.cond), _fold_block(s.body, candidates, known),
                          _fold_block(s.orelse, candidates, known)))
        elif isinstance(s, Loop):
            out.append(Loop(s.loc, rewrite(s.cond), _fold_block(s.body, candidates, known),
                            _fold_block(s.step, candidates, known)))
        else:
            out.append(map_stmts([s], rewrite)[0])
            if isinstance(s, Assign) and s.var in candidates:
                known[s.var] = candidates[s.var]
    return out


def fold(program):
    """Constant folding, bottom-up, with numpy scalars (ints wrap exactly as on the device); integer
    identities; a local assigned once with a constant is replaced by it where that assignment has run."""
    for fn in program.functions:
        fn.body = _fold_block(fn.body, _constant_locals(fn), {})


# ---- dce -------------------------------------------------------------------------------------------
def _reads(stmts):
    """Every Var read anywhere in a statement list."""
    return {e.attr for e in all_exprs(stmts) if e.op == "local"}


def _prune(stmts, live):
    out = []
    for s in stmts:
        if isinstance(s, If) and is_const(s.cond):
            out.extend(_prune(s.body if s.cond.attr else s.orelse, live))
        elif isinstance(s, Loop) and is_const(s.cond) and not s.cond.attr:
            continue
        elif isinstance(s, If):
            out.append(If(s.loc, s.cond, _prune(s.body, live), _prune(s.orelse, live)))
        elif isinstance(s, Loop):
            out.append(Loop(s.loc, s.cond, _prune(s.body, live), _prune(s.step, live)))
        elif isinstance(s, Assign) and s.var not in live and not has_effect(s.value):
            continue
        elif isinstance(s, ExprStmt) and not has_effect(s.value):
            continue
        else:
            out.append(s)
        if out and isinstance(out[-1], TERMINATORS):
            break  # the rest of this list never runs
    return out


def dce(program):
    """Dead-code elimination: code after break/continue/return, branches and loops with a constant
    condition, and assignments to locals that are never read (repeated until nothing changes)."""
    for fn in program.functions:
        while True:
            before = _count(fn.body)
            fn.body = _prune(fn.body, _reads(fn.body) | set(fn.params))
            if _count(fn.body) == before:
                break


def _count(stmts):
    return sum(1 + _count(getattr(s, "body", ())) + _count(getattr(s, "orelse", ())) + _count(getattr(s, "step", ()))
               for s in stmts)


# ---- cse -------------------------------------------------------------------------------------------
# Pure operations only (ir.PURE_OPS; test_aliasing checks that both of two loads are kept).
_CSE_OPS = PURE_OPS


def _candidates(e, versions, found):
    """Collect ``(key, expr)`` for the CSE-able subexpressions of ``e`` (nothing inside conditionally
    evaluated operands); returns the key of ``e`` itself, built from its operands' keys (linear time)."""
    if e.op in ("and", "or", "ifexp", "let"):
        _candidates(e.args[0], versions, found)
        return None
    if e.op == "local":
        return ("local", id(e.attr), versions.get(e.attr, 0))
    if e.op in ("const", "literal"):
        return (e.op, e.type, e.attr)
    args = tuple(_candidates(a, versions, found) for a in e.args)
    if e.op not in _CSE_OPS and e.op not in ("push", "shape"):
        return None
    if any(a is None for a in args):
        return None
    key = node_key(e, args)
    if e.op in _CSE_OPS:
        found.append((key, e))
    return key


def _segment_exprs(s):
    """The expressions of a straight-line statement (an if's or loop's condition is in no segment)."""
    return [] if isinstance(s, (If, Loop)) else stmt_exprs(s)


def _replace(e, versions, key, read):
    """``e`` with every occurrence of the expression whose key is ``key`` replaced by ``read``."""
    if e.op in ("and", "or", "ifexp", "let"):
        return e.with_args([_replace(e.args[0], versions, key, read), *e.args[1:]])
    if _candidates(e, versions, []) == key:
        return read
    return e.with_args([_replace(a, versions, key, read) for a in e.args]) if e.args else e


def _cse_segment(stmts):
    """One straight-line run of statements: hoist the largest repeated subexpression, repeat."""
    for _ in range(64):  # bounded: each round removes at least one duplicate
        counts, first = {}, {}
        versions = {}
        for pos, s in enumerate(stmts):
            found = []
            for e in _segment_exprs(s):
                _candidates(e, versions, found)
            for key, e in found:
                counts[key] = counts.get(key, 0) + 1
                first.setdefault(key, (pos, e, dict(versions)))
            if isinstance(s, Assign):
                versions[s.var] = versions.get(s.var, 0) + 1
        repeated = [k for k, n in counts.items() if n > 1]
        if not repeated:
            return stmts
        key = max(repeated, key=lambda k: (_size(k), -first[k][0]))
        pos, e, _ = first[key]
        tmp = Var("cse", e.type)
        read = Expr("local", e.type, attr=tmp, loc=e.loc)
        out, versions = stmts[:pos], {}
        for s in stmts[:pos]:
            if isinstance(s, Assign):
                versions[s.var] = versions.get(s.var, 0) + 1
        out.append(Assign(stmts[pos].loc, tmp, e))
        for s in stmts[pos:]:
            out.append(map_stmts([s], lambda x: _replace(x, versions, key, read))[0])
            if isinstance(s, Assign):
                versions[s.var] = versions.get(s.var, 0) + 1
        stmts = out
    return stmts


def _size(key):
    """The number of nodes in an expression key (the largest repeated expression is hoisted first)."""
    return 1 + sum(_size(a) for a in key[3]) if len(key) == 4 else 1


def _cse_block(stmts):
    out, segment = [], []
    for s in stmts:
        if isinstance(s, (If, Loop)):
            out.extend(_cse_segment(segment))
            segment = []
            if isinstance(s, If):
                out.append(If(s.loc, s.cond, _cse_block(s.body), _cse_block(s.orelse)))
            else:
                out.append(Loop(s.loc, s.cond, _cse_block(s.body), _cse_block(s.step)))
        else:
            segment.append(s)
    out.extend(_cse_segment(segment))
    return out


def cse(program):
    """Common-subexpression elimination within straight-line code (pure expressions only: loads and
    calls stay where they are, and nothing is taken out of a conditionally evaluated operand)."""
    for fn in program.functions:
        fn.body = _cse_block(fn.body)


# ---- inline ----------------------------------------------------------------------------------------
def _inlinable(fn):
    """Helpers whose only return ends the body and which never store: their body can replace the call."""
    returns = sum(1 for s in all_stmts(fn.body) if isinstance(s, Return))
    stores = any(isinstance(s, Store) for s in all_stmts(fn.body))
    calls = any(e.op == "call" for s in all_stmts(fn.body) for e in _segment_exprs(s))
    return (fn.return_type is not None and returns == 1 and isinstance(fn.body[-1], Return)
            and not stores and not calls)


def _copy_body(fn, args, loc):
    """The helper's statements with fresh locals, parameters bound to ``args``; returns
    ``(statements, result expression)``."""
    mapping = {}

    def var(v):
        if v not in mapping:
            mapping[v] = Var(f"{fn.name}.{v.name}", v.type)
        return mapping[v]

    def rename(e):
        if e.op == "local":
            return Expr("local", e.type, attr=var(e.attr), loc=e.loc)
        if e.op == "let":
            return Expr("let", e.type, e.args, attr=var(e.attr), loc=e.loc)
        return e

    rewrite = bottom_up(rename)
    stmts = [Assign(loc, var(p), a) for p, a in zip(fn.params, args)]
    for s in map_stmts(fn.body, rewrite):
        stmts.append(_rename_targets(s, var))
    result = stmts.pop()
    return stmts, result.value


def _rename_targets(s, var):
    if isinstance(s, Assign):
        return Assign(s.loc, var(s.var), s.value)
    if isinstance(s, If):
        return If(s.loc, s.cond, [_rename_targets(c, var) for c in s.body],
                  [_rename_targets(c, var) for c in s.orelse])
    if isinstance(s, Loop):
        return Loop(s.loc, s.cond, [_rename_targets(c, var) for c in s.body],
                    [_rename_targets(c, var) for c in s.step])
    return s


def _hoist_calls(e, inlinable, prelude):
    """Replace inlinable calls in ``e`` (outside conditional operands) by their results; the inlined
    bodies go to ``prelude`` in evaluation order."""
    if e.op in ("and", "or", "ifexp", "let"):
        return e.with_args([_hoist_calls(e.args[0], inlinable, prelude), *e.args[1:]])
    if e.args:
        e = e.with_args([_hoist_calls(a, inlinable, prelude) for a in e.args])
    if e.op == "call" and e.attr in inlinable:
        body, result = _copy_body(e.attr, e.args, e.loc)
        prelude.extend(body)
        tmp = Var(f"{e.attr.name}.result", e.type)
        prelude.append(Assign(e.loc, tmp, result))
        return Expr("local", e.type, attr=tmp, loc=e.loc)
    return e


def _only_inlinable_calls(exprs, inlinable):
    def ok(e):
        return (e.op != "call" or e.attr in inlinable) and all(ok(a) for a in e.args)
    return all(ok(e) for e in exprs)


def _inline_block(stmts, inlinable):
    out = []
    for s in stmts:
        if isinstance(s, If):
            out.append(If(s.loc, s.cond, _inline_block(s.body, inlinable), _inline_block(s.orelse, inlinable)))
            continue
        if isinstance(s, Loop):
            out.append(Loop(s.loc, s.cond, _inline_block(s.body, inlinable), _inline_block(s.step, inlinable)))
            continue
        exprs = _segment_exprs(s)
        if not exprs or not _only_inlinable_calls(exprs, inlinable):
            out.append(s)
            continue
        prelude = []
        rewritten = map_stmts([s], lambda e: _hoist_calls(e, inlinable, prelude))[0]
        out.extend(prelude)
        out.append(rewritten)
    return out


def inline(program):
    """Inline calls of simple helpers (one return, at the end; no stores, no calls) into their callers;
    helpers no longer called are dropped from the module."""
    inlinable = {fn for fn in program.helpers if _inlinable(fn)}
    if not inlinable:
        return
    for fn in program.functions:
        fn.body = _inline_block(fn.body, inlinable)
    called = {e.attr for fn in program.functions for e in all_exprs(fn.body) if e.op == "call"}
    program.helpers = [fn for fn in program.helpers if fn in called]


# ---- the pipeline ----------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Pass:
    """One named pass of the pipeline."""
    name: str
    run: object
    description: str


PIPELINE = (
    Pass("fold", fold, "constant folding"),
    Pass("inline", inline, "inline simple helpers"),
    Pass("fold", fold, "constant folding after inlining"),
    Pass("dce", dce, "dead-code elimination"),
    Pass("vectorize", vectorize, "vector loads and stores in element-wise kernels"),
    Pass("sink", sink, "one store after an if/else whose branches store to the same element"),
    Pass("cse", cse, "common subexpressions"),
)


def enabled_passes(spec=None):
    """The pass names switched on by ``LEGIONELLA_PASSES`` (or ``spec``): ``-cse,-inline`` turns those
    off, ``none`` turns all off, ``fold,dce`` keeps exactly those."""
    spec = os.environ.get("LEGIONELLA_PASSES", "") if spec is None else spec
    names = {p.name for p in PIPELINE}
    items = [s.strip() for s in spec.split(",") if s.strip()]
    if not items:
        return names
    if items == ["none"]:
        return set()
    unknown = [i for i in items if i.lstrip("-") not in names]
    if unknown:  # a typo would silently turn passes off
        raise ValueError(f"LEGIONELLA_PASSES={spec!r}: no pass named {', '.join(unknown)}; the passes are "
                         f"{', '.join(sorted(names))}, or none alone")
    removed = [i[1:] for i in items if i.startswith("-")]
    if removed and len(removed) != len(items):
        raise ValueError(f"LEGIONELLA_PASSES={spec!r} mixes passes to keep with passes to turn off: write "
                         "either -cse,-inline (all but those) or fold,dce (exactly those)")
    return names - set(removed) if removed else set(items)


def dump_requested(what):
    """Whether ``LEGIONELLA_DUMP`` asks for ``what`` (``ir`` or ``spirv``)."""
    return what in {s.strip() for s in os.environ.get("LEGIONELLA_DUMP", "").split(",")}


def dump_ir(program, title):
    """Print every function's IR to stderr under a title."""
    print(f";; ---- IR {title} ----", file=sys.stderr)
    for fn in program.functions:
        print(format_function(fn), file=sys.stderr)


def run_passes(program, enabled=None):
    """Run the pipeline over a program in place; ``enabled`` (a set of names) defaults to the environment."""
    enabled = enabled_passes() if enabled is None else enabled
    dump = dump_requested("ir")
    if dump:
        dump_ir(program, "after frontend")
    for p in PIPELINE:
        if p.name not in enabled:
            continue
        try:
            p.run(program)
        except Exception as e:
            raise RuntimeError(f"internal compiler error in pass '{p.name}' ({p.description}): {e!r}") from e
        if dump:
            dump_ir(program, f"after {p.name}")

