"""Frontend: a kernel's Python AST (and the helpers it calls) to the typed IR of :mod:`.ir`.

AST nodes are dispatched through two tables (:data:`STATEMENTS`, :data:`EXPRESSIONS`); a node in neither
is one clear :class:`~legionella.errors.CompileError`, with the plain-words explanation from
:data:`UNSUPPORTED` where we have one. Every error carries file, line, column, the source line and the
call chain that reached the function.

Helpers are compiled once per distinct combination of argument types (literal arguments and buffers are
bound at compile time), so an unannotated helper is specialised per call site.
"""
import ast
import functools

import numpy as np

from ..errors import CompileError
from ..lang.binding import BindingDecl
from ..lang.types import BufferType, MatrixType, ScalarType, StructType, VectorType, boolean, i32, u32
from . import assignment, calls, helpers, ranges, sharing, uniforms, values as V, workgroup
from .ir import (Assign, Break, BufferRef, Continue, Expr, ExprStmt, If, Loop, Return, Store, Var,
                 has_effect)
from .helpers import annotation_type
from . import matrices
from .resolve import constant_value, resolve_attribute
from .typerules import TupleType, TypeRuleError, can_assign, require_target

UNSUPPORTED = {
    ast.Dict: "dicts are not supported; use a Buffer or separate variables",
    ast.DictComp: "dict comprehensions are not supported; use a Buffer or separate variables",
    ast.List: "lists are not supported; use a vector (vec4(...)), a tuple of values, or a Buffer",
    ast.ListComp: "list comprehensions are not supported; write a for loop over range(...)",
    ast.Set: "sets are not supported in kernels",
    ast.SetComp: "set comprehensions are not supported in kernels",
    ast.GeneratorExp: "generator expressions are not supported; write a for loop over range(...)",
    ast.Lambda: "lambdas are not supported; define a helper function at module level",
    ast.JoinedStr: "strings are not supported in kernels",
    ast.Yield: "generators (yield) are not supported in kernels",
    ast.YieldFrom: "generators (yield from) are not supported in kernels",
    ast.Await: "await is not supported in kernels",
    ast.NamedExpr: "the walrus operator (:=) is not supported; assign on its own line",
    ast.Starred: "star-expressions (*args) are not supported in kernels",
    ast.Slice: "slices are not supported; index one element at a time",
    ast.Try: "exceptions (try/except) are not supported in kernels; test the condition with if instead",
    ast.Raise: "raising exceptions is not supported in kernels; test the condition with if and return",
    ast.With: "with-statements are not supported in kernels",
    ast.Assert: "assert is not supported in kernels; test the condition with if and return",
    ast.FunctionDef: "nested functions (closures) are not supported; define the helper at module level",
    ast.AsyncFunctionDef: "async functions are not supported in kernels",
    ast.ClassDef: "class definitions are not supported inside kernels",
    ast.Import: "import statements are not supported inside kernels; import at module level",
    ast.ImportFrom: "import statements are not supported inside kernels; import at module level",
    ast.Global: "global statements are not supported: kernels cannot change module state; write to a Buffer",
    ast.Nonlocal: "nonlocal statements are not supported: kernels cannot change closure state",
    ast.Delete: "del is not supported in kernels",
    ast.AsyncFor: "async for is not supported in kernels",
    ast.AsyncWith: "async with is not supported in kernels",
    ast.Match: "match statements are not supported; use if/elif/else",
}
if hasattr(ast, "TryStar"):
    UNSUPPORTED[ast.TryStar] = UNSUPPORTED[ast.Try]

BINOPS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "truediv", ast.FloorDiv: "floordiv",
          ast.Mod: "mod", ast.Pow: "pow", ast.LShift: "lshift", ast.RShift: "rshift", ast.BitAnd: "bitand",
          ast.BitOr: "bitor", ast.BitXor: "bitxor", ast.MatMult: "matmul"}
CMPOPS = {ast.Eq: "eq", ast.NotEq: "ne", ast.Lt: "lt", ast.LtE: "le", ast.Gt: "gt", ast.GtE: "ge"}
UNOPS = {ast.USub: "neg", ast.UAdd: "pos", ast.Invert: "invert"}


class Static:
    """A compile-time value that is not an IR expression: a module, function, type, buffer, tuple..."""
    __slots__ = ("obj",)

    def __init__(self, obj):
        self.obj = obj


class Shape:
    """``a.shape`` of a buffer, waiting for ``[k]`` or unpacking."""
    __slots__ = ("buffer",)

    def __init__(self, buffer):
        self.buffer = buffer


class Place:
    """A buffer element (or a member/component of one) that can be loaded or stored."""
    __slots__ = ("buffer", "index", "path", "type")

    def __init__(self, buffer, index, path, type):
        self.buffer, self.index, self.path, self.type = buffer, index, path, type


class CompilerContext:
    """State shared by all functions of one kernel compilation."""

    def __init__(self, target, kernel_name, workgroup, global_buffers):
        self.target = target
        self.global_buffers = global_buffers  # bindings.GlobalBuffers
        self.kernel_name = kernel_name
        self.workgroup = workgroup
        self.specialisations = {}  # (function, arg key) -> Function
        self.helpers = []  # Functions, callees before callers
        self.active = []  # the Python functions being compiled (recursion check)
        self.names = {}  # helper name -> count, for unique SPIR-V names
        self.shared = []  # workgroup.SharedRefs the kernel declares, in order
        self.uniformity = {}  # id(function AST) -> uniformity.Uniformity (the barrier() check)


class FunctionCompiler:
    """Compiles one function body (kernel or helper specialisation) to IR statements."""

    def __init__(self, ctx, src, function, scope, chain):
        self.ctx = ctx
        self.src = src
        self.function = function
        self.scope = scope  # name -> Var | BufferRef | Expr (bound literal) | Static
        self.chain = chain
        self.returns = []
        self.loop_depth = 0
        self.assigned = {n.id for n in src.nodes if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}

    @functools.cached_property
    def sharing(self):
        """The :class:`.sharing.Scan` of this function, built at its first component store."""
        return sharing.Scan(self.src)

    # ---- errors ---------------------------------------------------------------------------------
    def error(self, node, message):
        """A located CompileError at ``node`` (raise it)."""
        loc = self.src.loc(node)
        return CompileError(message, filename=loc.filename, lineno=loc.line, col=loc.col,
                            text=self.src.line_text(loc.line), chain=self.chain)

    def loc(self, node):
        """The :class:`~.ir.Loc` of an AST node."""
        return self.src.loc(node)

    def checked(self, node, fn, *args):
        """Call a type-rule function, turning its :class:`TypeRuleError` into a located CompileError."""
        try:
            return fn(*args)
        except TypeRuleError as e:
            raise self.error(node, str(e)) from None

    # ---- statements -----------------------------------------------------------------------------
    def block(self, stmts):
        """Compile a list of statements to IR statements (for the function's body, then check that every
        read of a local follows an assignment on every path: :mod:`.assignment`)."""
        on_entry = [v for v in self.scope.values() if isinstance(v, Var)] if stmts is self.src.tree.body else None
        out = []
        for node in stmts:
            handler = STATEMENTS.get(type(node))
            if handler is None:
                raise self.error(node, UNSUPPORTED.get(type(node),
                                                       f"{type(node).__name__} statements are not supported"))
            try:
                handler(self, node, out)
            except TypeRuleError as e:  # a rule failed below without a nearer location
                raise self.error(node, str(e)) from None
        if on_entry is not None:
            assignment.check(self, out, on_entry)
        return out

    def stmt_pass(self, node, out):
        pass

    def stmt_expr(self, node, out):
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return  # a docstring or comment-like string
        value = self.visit(node.value)
        if isinstance(value, Expr) and has_effect(value):
            out.append(ExprStmt(self.loc(node), value))

    def stmt_assign(self, node, out):
        if len(node.targets) > 1:
            self.assign_chain(node, out)
            return
        if workgroup.is_shared_declaration(self, node):
            workgroup.declare_shared(self, node)
            return
        self.assign(node.targets[0], node.value, out)

    def stmt_annassign(self, node, out):
        if not isinstance(node.target, ast.Name) or node.value is None:
            raise self.error(node, "annotated assignments need a plain name and a value: x: f32 = 0.0")
        t = annotation_type(self.static(node.annotation))
        if t is None or isinstance(t, BufferType):
            raise self.error(node.annotation, "the annotation of a local must be a scalar or vector type")
        name = node.target.id
        if name in self.scope:
            raise self.error(node, f"'{name}' already has a type; annotate a local at its first assignment")
        value = self.value(node.value)
        if not (V.is_literal(value) or can_assign(value.type, t)):
            raise self.error(node.value, f"cannot assign a {value.type.name} to '{name}' declared {t.name}; "
                                         f"convert it with {t.name}(...)")
        var = Var(name, t)
        self.scope[name] = var
        out.append(Assign(self.loc(node), var, self.checked(node.value, V.coerce, value, t)))

    def stmt_augassign(self, node, out):
        op = BINOPS[type(node.op)]
        target = node.target
        current = self.value(target) if not isinstance(target, ast.Name) else self.name_value(target)
        result = self.checked(node, V.binary, op, current, self.value(node.value), self.loc(node))
        self.store(target, result, out, node)

    def stmt_if(self, node, out):
        cond = self.condition(node.test)
        body = self.block(node.body)
        orelse = self.block(node.orelse)
        out.append(If(self.loc(node), cond, body, orelse))

    def stmt_while(self, node, out):
        if node.orelse:
            raise self.error(node, "while ... else is not supported; use a flag variable")
        cond = self.condition(node.test)
        self.loop_depth += 1
        body = self.block(node.body)
        self.loop_depth -= 1
        out.append(Loop(self.loc(node), cond, body, []))

    def stmt_for(self, node, out):
        if node.orelse:
            raise self.error(node, "for ... else is not supported; use a flag variable")
        if not (isinstance(node.iter, ast.Call) and self.is_builtin(node.iter.func, range)):
            raise self.error(node.iter, "for loops can only run over range(...); index buffers with the loop "
                                        "variable instead")
        if not isinstance(node.target, ast.Name):
            raise self.error(node.target, "the loop variable of a for loop must be a single name")
        args = node.iter.args
        if not 1 <= len(args) <= 3 or node.iter.keywords:
            raise self.error(node.iter, "range() takes 1 to 3 positional arguments")
        loc = self.loc(node)
        bounds = [self.index_value(a) for a in args]
        if len(bounds) == 1:
            bounds.insert(0, V.literal(0, loc))
        if len(bounds) == 2:
            bounds.append(V.literal(1, loc))
        start, stop, step = bounds
        if V.is_literal(step) and step.attr == 0:
            raise self.error(args[2], "range() step must not be zero")
        name = node.target.id
        var = self.local_for_store(node.target, i32)
        start, stop, step = (self.hoist(b, f"{name}.{part}", out, loc)
                             for b, part in zip((start, stop, step), ("start", "stop", "step")))
        # an unsigned counter from -trip up to 0 (0 up to a constant trip), not `name += step` (ranges.py
        # says why)
        trip = self.hoist(ranges.trip_count(start, stop, step, loc), f"{name}.trip", out, loc, u32)
        base = self.hoist(ranges.value_base(start, trip, step, loc), f"{name}.end", out, loc)
        counter = Var(f"{name}.count", u32)
        out.append(Assign(loc, counter, ranges.counter_start(trip, loc)))
        read = Expr("local", u32, attr=counter, loc=loc)
        self.loop_depth += 1
        body = self.block(node.body)
        self.loop_depth -= 1
        increment = Assign(loc, counter, V.binary("add", read, V.literal(1, loc), loc))
        value = Assign(loc, var, ranges.loop_value(base, read, step, loc))
        out.append(Loop(loc, ranges.counter_test(read, trip, loc), [value, *body], [increment]))

    def hoist(self, e, name, out, loc, t=i32):
        """Evaluate a loop bound once, as Python does: literals stay, anything else goes to a local."""
        if V.is_literal(e) or e.op == "const":
            return e
        var = Var(name, t)
        out.append(Assign(loc, var, V.coerce(e, t)))
        return Expr("local", t, attr=var, loc=loc)

    def stmt_break(self, node, out):
        if not self.loop_depth:
            raise self.error(node, "'break' outside a loop")
        out.append(Break(self.loc(node)))

    def stmt_continue(self, node, out):
        if not self.loop_depth:
            raise self.error(node, "'continue' outside a loop")
        out.append(Continue(self.loc(node)))

    def stmt_return(self, node, out):
        if node.value is None:
            value = None
        elif isinstance(node.value, ast.Tuple):
            items = [self.value(e) for e in node.value.elts]
            value = self.make_tuple(items, node)
        else:
            value = self.value(node.value)
        if self.function.is_kernel and value is not None:
            raise self.error(node, "a kernel cannot return a value; store results into a Buffer parameter")
        stmt = Return(self.loc(node), value)
        self.returns.append((stmt, node))
        out.append(stmt)

    def make_tuple(self, items, node):
        """A tuple value (for ``return a, b``) from already-evaluated items."""
        items = [self.checked(node, V.default_typed, i) for i in items]
        for i in items:
            if isinstance(i.type, TupleType):
                raise self.error(node, "nested tuples are not supported")
        return Expr("construct", TupleType(tuple(i.type for i in items)), items, loc=self.loc(node))

    # ---- assignment -------------------------------------------------------------------------------
    def assign(self, target, value_node, out):
        """``target = value`` for any supported target, including tuple unpacking."""
        if isinstance(target, ast.Tuple):
            self.assign_tuple(target, value_node, out)
            return
        self.store(target, self.value(value_node, "assigned to a variable"), out, value_node)

    def assign_chain(self, node, out):
        """``a = b[i] = value``: the value evaluated once, then stored into each target from left to right,
        as Python does; a literal is stored as a literal, so each target converts it to its own type."""
        if any(isinstance(t, (ast.Tuple, ast.List)) for t in node.targets):
            raise self.error(node, "chained assignment to a tuple (a, b = c = ...) is not supported; assign one "
                                   "at a time")
        value = self.value(node.value, "assigned to a variable")
        if isinstance(value.type, (VectorType, MatrixType)):
            raise self.error(node, f"chained assignment of a {value.type.name}: in Python every name would be one "
                                   "object, which a component store changes for all, while the device copies; "
                                   "assign the names one at a time (w = v * 1.0 makes a copy)")
        if not V.is_literal(value):
            value = self.checked(node.value, V.default_typed, value)
            tmp = Var("chain.value", value.type)
            out.append(Assign(self.loc(node), tmp, value))
            value = Expr("local", value.type, attr=tmp, loc=self.loc(node))
        for target in node.targets:
            self.store(target, value, out, node.value)

    def assign_tuple(self, target, value_node, out):
        """``a, b = ...``: from a tuple literal, a tuple-returning call, a vector or a shape."""
        loc = self.loc(target)
        if isinstance(value_node, ast.Tuple):  # a, b = b, a: evaluate every value first
            if len(value_node.elts) != len(target.elts):
                raise self.error(target, f"cannot unpack {len(value_node.elts)} values into "
                                         f"{len(target.elts)} names")
            temps = []
            for elt in value_node.elts:
                v = self.checked(elt, V.default_typed, self.value(elt))
                tmp = Var("tuple.item", v.type)
                out.append(Assign(loc, tmp, v))
                temps.append(Expr("local", v.type, attr=tmp, loc=loc))
            for t, v in zip(target.elts, temps):
                self.store(t, v, out, value_node)
            return
        value = self.visit(value_node)
        if isinstance(value, Shape):
            items = [Expr("shape", i32, attr=(value.buffer, k), loc=loc) for k in range(value.buffer.type.ndim)]
        elif isinstance(value, Static) and isinstance(value.obj, tuple):  # a module-level tuple of constants
            items = [self.from_python(v, value_node) for v in value.obj]
            if not all(isinstance(i, Expr) for i in items):
                raise self.error(value_node, "only tuples of numbers can be unpacked")
        elif isinstance(value, Expr) and isinstance(value.type, (TupleType, VectorType)):
            tmp = Var("tuple", value.type)
            out.append(Assign(loc, tmp, value))
            read = Expr("local", value.type, attr=tmp, loc=loc)
            elements = value.type.elements if isinstance(value.type, TupleType) else (value.type.scalar,) * value.type.n
            items = [Expr("extract", t, (read,), attr=k, loc=loc) for k, t in enumerate(elements)]
        else:
            raise self.error(value_node, "only tuples, vectors and shapes can be unpacked")
        if len(items) != len(target.elts):
            raise self.error(target, f"cannot unpack {len(items)} values into {len(target.elts)} names")
        for t, v in zip(target.elts, items):
            self.store(t, v, out, value_node)

    def store(self, target, value, out, value_node):
        """Assign an already-evaluated value to a name, buffer element or vector component."""
        loc = self.loc(target)
        if isinstance(target, ast.Name):
            var = self.scope.get(target.id)
            if var is None or not isinstance(var, Var):
                value = self.checked(value_node, V.default_typed, value)
                var = self.local_for_store(target, value.type)
            elif not can_assign(value.type, var.type, value.attr if V.is_literal(value) else None):
                raise self.error(value_node, f"'{target.id}' is a {var.type.name} (from its first assignment); "
                                             f"cannot assign a {value.type.name}: convert with "
                                             f"{var.type.name}(...) or use another variable")
            out.append(Assign(loc, var, self.checked(value_node, V.coerce, value, var.type)))
            return
        if isinstance(target, (ast.Subscript, ast.Attribute)):
            if isinstance(target.value, ast.Name) and isinstance(self.scope.get(target.value.id), Var):
                sharing.check_component_store(self, target)  # w.x = s after w = v: Python would change v too
            if isinstance(target.value, (ast.Subscript, ast.Attribute)):  # a[i].xy, a[i][2], ps[i].vel.y
                owner = self.visit(target.value)
                if isinstance(owner, Place) and isinstance(owner.type, VectorType):
                    self.store_element_components(owner, target, value, value_node, out)
                    return
            place = self.visit(target)
            if isinstance(place, Place):
                self.store_place(place, value, value_node, target, out)
                return
            if isinstance(place, Expr) and isinstance(target, ast.Attribute):
                self.store_component(target, value, out, value_node)
                return
            if isinstance(place, Expr) and isinstance(target, ast.Subscript) and isinstance(place.type, ScalarType):
                self.store_component(target, value, out, value_node)
                return
            if isinstance(place, Expr) and place.op == "extract" and V.is_matrix(place.args[0]):
                matrices.store_column(self, target, value, out, value_node)
                return
        raise self.error(target, "can only assign to names, buffer elements and vector components")

    def store_place(self, place, value, value_node, target, out):
        """Store into a buffer element (or a member of one), converting like numpy."""
        if isinstance(place.buffer, uniforms.UniformRef):
            raise self.error(target, f"{place.buffer.name} is a {place.buffer.type.name} binding, which kernels "
                                     f"read but never write; declare it as Buffer[{place.buffer.type.element.name}] "
                                     "to write it")
        t = place.type
        if isinstance(t, StructType):
            raise self.error(target, f"cannot store a whole {t.name}; assign its fields one by one "
                                     f"(a[i].field = ...)")
        if isinstance(t, VectorType) and not isinstance(value.type, VectorType) and not V.is_literal(value):
            raise self.error(value_node, f"cannot store a {value.type.name} into a {t.name} element")
        converted = self.checked(value_node, V.coerce, value, t)
        out.append(Store(self.loc(target), place.buffer, place.index, place.path, converted))

    def store_component(self, target, value, out, value_node):
        """``v.x = s``, ``v.xy = w`` or ``v[0] = s`` on a local vector: rebuild it with the new components."""
        base = target.value
        if not isinstance(base, ast.Name) or not isinstance(self.scope.get(base.id), Var):
            raise self.error(target, "can only assign components of a local vector variable or of a vector in "
                                     "a buffer (a[i].x)")
        var = self.scope[base.id]
        if not isinstance(var.type, VectorType):
            raise self.error(target, f"'{base.id}' is a {var.type.name}, which has no components")
        idx = self.component_indices(target, var.type)
        loc = self.loc(target)
        current = Expr("local", var.type, attr=var, loc=loc)
        for k, part in zip(idx, self.component_values(value, value_node, var.type, len(idx), loc, out)):
            current = Expr("insert", var.type, (current, part), attr=k, loc=loc)
        out.append(Assign(loc, var, current))

    def store_element_components(self, owner, target, value, value_node, out):
        """``a[i].xy = w``, ``a[i][2] = s``, ``ps[i].vel.y = s``: one Store per component of a vector in a
        buffer element, as Python's write-through to the element (``kernel.emulate`` does the same)."""
        vtype = owner.type
        idx = self.component_indices(target, vtype)
        parts = self.component_values(value, value_node, vtype, len(idx), self.loc(target), out)
        for k, part in zip(idx, parts):
            self.store_place(Place(owner.buffer, owner.index, owner.path + (k,), vtype.scalar), part, value_node,
                             target, out)

    def component_indices(self, target, vtype):
        """The components that ``v.xy`` or ``v[k]`` (``k`` a literal) names in a ``vtype``, all distinct."""
        if isinstance(target, ast.Attribute):
            idx = V.swizzle_indices(vtype, target.attr)
            if idx is None or len(set(idx)) != len(idx):
                raise self.error(target, f"cannot assign '{target.attr}' of a {vtype.name}")
            return tuple(idx)
        k = self.value(target.slice)
        if not V.is_literal(k) or not isinstance(k.attr, int) or not 0 <= k.attr < vtype.n:
            raise self.error(target.slice, f"a vector component index must be a literal 0..{vtype.n - 1}")
        return (k.attr,)

    def component_values(self, value, value_node, vtype, count, loc, out):
        """The ``count`` scalars being stored into components of a ``vtype``: ``value`` itself for one, else
        the components of ``value`` (kept in a temporary first, so that it is evaluated once, before any of
        the stores: ``a[i].xy = a[i].yx`` swaps)."""
        if count == 1:
            return [self.checked(value_node, V.coerce, value, vtype.scalar)]
        value = self.checked(value_node, V.coerce, value, VectorType(vtype.scalar, count))
        tmp = Var("components", value.type)
        out.append(Assign(loc, tmp, value))
        value = Expr("local", value.type, attr=tmp, loc=loc)
        return [Expr("extract", vtype.scalar, (value,), attr=k, loc=loc) for k in range(count)]

    def local_for_store(self, target, t):
        """The Var for a name being assigned; creates it (with type ``t``) at its first assignment."""
        name = target.id
        existing = self.scope.get(name)
        if isinstance(existing, Var):
            if existing.type != t and not can_assign(t, existing.type):
                raise self.error(target, f"'{name}' is a {existing.type.name}; cannot reuse it for {t.name}")
            return existing
        if existing is not None:
            raise self.error(target, f"'{name}' is a parameter of kind {type(existing).__name__}; "
                                     "use a new name for the local")
        if isinstance(t, (StructType, BufferType)):
            raise self.error(target, f"locals cannot hold a {t.name}")
        self.checked(target, require_target, t, self.ctx.target)
        var = Var(name, t)
        self.scope[name] = var
        return var

    # ---- expressions ------------------------------------------------------------------------------
    def visit(self, node):
        """Dispatch an expression node through :data:`EXPRESSIONS`."""
        handler = EXPRESSIONS.get(type(node))
        if handler is None:
            raise self.error(node, UNSUPPORTED.get(type(node), f"{type(node).__name__} expressions are not "
                                                               "supported in kernels"))
        try:
            return handler(self, node)
        except TypeRuleError as e:  # a rule failed below without a nearer location
            raise self.error(node, str(e)) from None

    def value(self, node, what="used as a value"):
        """An expression that must produce a runtime value (not a module, type or buffer)."""
        result = self.visit(node)
        if isinstance(result, Place) and not isinstance(result.type, StructType):
            result = self.load(result, node)
        if not isinstance(result, Expr):
            raise self.error(node, self.static_message(result, what))
        return self.finish(node, result)

    def argument(self, node):
        """A call argument: a runtime value, or a buffer (helpers take buffers, bound at compile time)."""
        result = self.visit(node)
        if isinstance(result, Static) and isinstance(result.obj, BufferRef):
            return result
        if isinstance(result, Place) and not isinstance(result.type, StructType):
            result = self.load(result, node)
        if not isinstance(result, Expr):
            raise self.error(node, self.static_message(result, "passed to a helper"))
        return self.finish(node, result)

    def finish(self, node, e):
        """Check a value that is about to be used: whole structs cannot be, and 64-bit needs the target."""
        if e.type is None:
            raise self.error(node, "this call returns no value (a helper without a return value, or barrier()); "
                                   "call it on its own line")
        if e.op == "load" and isinstance(e.type, StructType):
            raise self.error(node, f"a whole {e.type.name} element cannot be copied; read its fields "
                                   f"(a[i].field)")
        self.checked(node, require_target, e.type, self.ctx.target)
        return e

    def static_message(self, value, what):
        """The message for a compile-time object used where a runtime value is needed."""
        if isinstance(value, Place):
            return f"a {value.type.name} element cannot be {what}; read its fields"
        if isinstance(value, Shape):
            return f"a shape cannot be {what}; use a.shape[k]"
        obj = value.obj if isinstance(value, Static) else value
        if isinstance(obj, BufferRef):
            return f"buffer '{obj.name}' cannot be {what}; index it (a[i]) or pass it to a helper"
        return f"{describe(obj)} cannot be {what} in a kernel"

    def index_value(self, node):
        """An index or range bound: an integer, converted to i32."""
        e = self.value(node)
        if V.is_literal(e):
            if not isinstance(e.attr, int) or isinstance(e.attr, bool):
                raise self.error(node, "indices and range() bounds must be integers")
            if not -2**31 <= e.attr < 2**31:
                raise self.error(node, f"{e.attr} is out of the i32 range of indices and range() bounds")
            return e
        if not isinstance(e.type, ScalarType) or e.type.kind not in "iu":
            raise self.error(node, f"indices and range() bounds must be integers, not {e.type.name}")
        return e if e.type == i32 else Expr("convert", i32, (e,), loc=e.loc)

    def condition(self, node):
        """A condition under Python truthiness, as a bool expression. ``a and b`` there is the truth of
        each operand, whatever its type (``if m[i] and i > 0:``); as a value it needs bools (see
        :meth:`expr_boolop`)."""
        if isinstance(node, ast.BoolOp):
            op = "and" if isinstance(node.op, ast.And) else "or"
            return V.logical(op, [self.condition(v) for v in node.values], self.loc(node))
        return self.checked(node, V.truth, self.value(node))

    def expr_constant(self, node):
        v = node.value
        if isinstance(v, (bool, int, float)):
            return V.literal(v, self.loc(node))
        kind = "strings" if isinstance(v, (str, bytes)) else f"{type(v).__name__} constants"
        raise self.error(node, f"{kind} are not supported in kernels")

    def expr_name(self, node):
        if node.id in self.scope:
            bound = self.scope[node.id]
            if isinstance(bound, Var):
                return Expr("local", bound.type, attr=bound, loc=self.loc(node))
            return bound
        if node.id in self.assigned:
            raise self.error(node, f"local variable '{node.id}' is used before it is assigned")
        try:
            obj = self.src.lookup(node.id)
        except KeyError:
            raise self.error(node, f"name '{node.id}' is not defined") from None
        return self.from_python(obj, node)

    def name_value(self, node):
        """A name that must be a runtime value (augmented assignment targets)."""
        e = self.expr_name(node)
        if not isinstance(e, Expr):
            raise self.error(node, self.static_message(e, "used as a value"))
        return e

    def from_python(self, obj, node):
        """A module-level object as seen from kernel code: constants fold, others stay static."""
        if isinstance(obj, BindingDecl):
            ref = self.checked(node, self.ctx.global_buffers.ref, obj)
            if isinstance(ref, uniforms.UniformRef):  # its one value: NAME.field, or NAME for a scalar/vector
                return Place(ref, uniforms.place_index(), (), ref.type.element)
            return Static(ref)
        c = constant_value(obj)
        if c is not None:
            if isinstance(c, (bool, int, float)):
                return V.literal(c, self.loc(node))
            return self.checked(node, V.numpy_constant, c, self.loc(node))
        return Static(obj)

    def expr_attribute(self, node):
        base = self.visit(node.value)
        loc = self.loc(node)
        if isinstance(base, Static):
            if isinstance(base.obj, BufferRef):
                if node.attr == "shape":
                    return Shape(base.obj)
                raise self.error(node, f"buffers have .shape and len(); '{node.attr}' is not supported")
            try:
                return self.from_python(resolve_attribute(base.obj, node.attr), node)
            except KeyError:
                raise self.error(node, f"{describe(base.obj)} has no attribute '{node.attr}' usable in "
                                       "kernels") from None
        if isinstance(base, Place):
            return self.member(base, node)
        if isinstance(base, Expr):
            if isinstance(base.type, VectorType):
                return self.checked(node, V.swizzle, base, node.attr, loc)
            raise self.error(node, f"a {base.type.name} has no attribute '{node.attr}'")
        raise self.error(node, self.static_message(base, "accessed with '.'"))

    def member(self, place, node):
        """``a[i].field`` or ``a[i].x``: extend the access path; swizzles of several components load."""
        t = place.type
        if isinstance(t, StructType):
            names = [n for n, _ in t.fields]
            if node.attr not in names:
                raise self.error(node, f"{t.name} has no field '{node.attr}'; it has {', '.join(names)}")
            k = names.index(node.attr)
            return Place(place.buffer, place.index, place.path + (k,), t.fields[k][1])
        if isinstance(t, VectorType):
            idx = V.swizzle_indices(t, node.attr)
            if idx is not None and len(idx) == 1:
                return Place(place.buffer, place.index, place.path + idx, t.scalar)
            return self.checked(node, V.swizzle, self.load(place, node), node.attr, self.loc(node))
        raise self.error(node, f"a {t.name} has no attribute '{node.attr}'")

    def load(self, place, node):
        """Load a buffer element (or member) as a value."""
        return Expr("load", place.type, (place.index,), attr=(place.buffer, place.path), loc=self.loc(node))

    def expr_subscript(self, node):
        base = self.visit(node.value)
        loc = self.loc(node)
        if isinstance(base, Static) and isinstance(base.obj, BufferRef):
            return self.element(base.obj, node)
        if isinstance(base, Shape):
            k = self.value(node.slice)
            ndim = base.buffer.type.ndim
            if not V.is_literal(k) or not isinstance(k.attr, int) or not -ndim <= k.attr < ndim:
                raise self.error(node.slice, f"a.shape[k] needs a literal k in 0..{base.buffer.type.ndim - 1}")
            return Expr("shape", i32, attr=(base.buffer, k.attr % base.buffer.type.ndim), loc=loc)
        if isinstance(base, Place):
            base = self.load(base, node)
        if isinstance(base, Expr) and V.is_matrix(base):
            return matrices.column(self, base, node)
        if isinstance(base, Expr) and isinstance(base.type, (VectorType, TupleType)):
            k = self.value(node.slice)
            n = base.type.n if isinstance(base.type, VectorType) else len(base.type.elements)
            if not V.is_literal(k) or not isinstance(k.attr, int) or not -n <= k.attr < n:
                raise self.error(node.slice, f"a {base.type.name} index must be a literal in 0..{n - 1}")
            t = base.type.scalar if isinstance(base.type, VectorType) else base.type.elements[k.attr]
            return Expr("extract", t, (base,), attr=k.attr % n, loc=loc)
        if isinstance(base, Static) and isinstance(base.obj, tuple):  # a module-level tuple of constants
            k = self.value(node.slice)
            if not V.is_literal(k) or not isinstance(k.attr, int) or not -len(base.obj) <= k.attr < len(base.obj):
                raise self.error(node.slice, "a tuple constant can only be indexed with a literal in "
                                             f"0..{len(base.obj) - 1} "
                                             "(write a buffer to index it with a computed value)")
            return self.from_python(base.obj[k.attr], node)
        hint = ""
        if isinstance(base, Static) and isinstance(base.obj, (list, dict, np.ndarray)):
            hint = (f"; a module-level {type(base.obj).__name__} is host data: pass it to the kernel as a Buffer "
                    "(lg.array(...)), or make it a tuple of constants")
        raise self.error(node, f"only buffers, shapes and vectors can be indexed{hint}")

    def element(self, buffer, node):
        """``a[i]`` / ``a[i, j]``: the linear row-major index of one element."""
        indices = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        ndim = buffer.type.ndim
        if len(indices) != ndim:
            raise self.error(node, f"'{buffer.name}' is a {buffer.type.name} ({ndim}-D): index it with "
                                   f"{ndim} index{'es' if ndim > 1 else ''}, like "
                                   f"{buffer.name}[{', '.join('ijk'[:ndim])}]")
        loc = self.loc(node)
        linear = None
        for k, idx_node in enumerate(indices):
            idx = self.index_value(idx_node)
            if V.is_literal(idx) and idx.attr < 0:  # a[-1]: Python's from-the-end index
                idx = V.binary("add", Expr("shape", i32, attr=(buffer, k), loc=loc), idx, loc)
            idx = V.coerce(idx, i32)
            if linear is None:
                linear = idx
            else:
                size = Expr("shape", i32, attr=(buffer, k), loc=loc)
                linear = V.binary("add", V.binary("mul", linear, size, loc), idx, loc)
        return Place(buffer, linear, (), buffer.type.element)

    def expr_binop(self, node):
        op = BINOPS[type(node.op)]
        return self.checked(node, V.binary, op, self.value(node.left), self.value(node.right), self.loc(node))

    def expr_unaryop(self, node):
        if isinstance(node.op, ast.Not):
            return self.checked(node, V.logical_not, self.condition(node.operand), self.loc(node))
        return self.checked(node, V.unary, UNOPS[type(node.op)], self.value(node.operand), self.loc(node))

    def expr_boolop(self, node):
        op = "and" if isinstance(node.op, ast.And) else "or"
        operands = []
        for v in node.values:
            e = self.value(v)
            if not (V.is_literal(e) or e.type == boolean):
                raise self.error(v, f"'{op}' needs bool operands (Python would return the {e.type.name} "
                                    f"itself); write a comparison such as (x != 0)")
            operands.append(e)
        return V.logical(op, operands, self.loc(node))

    def expr_compare(self, node):
        loc = self.loc(node)
        left = self.value(node.left)
        terms = []
        for op_node, right_node in zip(node.ops, node.comparators):
            op = CMPOPS.get(type(op_node))
            if op is None:
                raise self.error(node, "'is' and 'in' are not supported in kernels; compare values with == "
                                       "and use explicit tests")
            right = self.value(right_node)
            last = right_node is node.comparators[-1]
            if not last and not V.is_literal(right) and right.op not in ("local", "const"):
                tmp = Var("cmp", right.type)  # a < f(x) < c evaluates f(x) once
                read = Expr("local", right.type, attr=tmp, loc=loc)
                terms.append((op, left, read, tmp, right))
                left = read
                continue
            terms.append((op, left, right, None, None))
            left = right
        result = None
        for op, a, b, tmp, init in reversed(terms):
            term = self.checked(node, V.compare, op, a, b, loc)
            combined = term if result is None else V.logical("and", [term, result], loc)
            result = Expr("let", boolean, (init, combined), attr=tmp, loc=loc) if tmp is not None else combined
        return result

    def expr_ifexp(self, node):
        cond = self.condition(node.test)
        a, b = self.value(node.body), self.value(node.orelse)
        literals = V.is_literal(a) and V.is_literal(b)
        if literals:  # typed as the literals would be alone
            typed = [self.checked(n, V.default_typed, v) for n, v in ((node.body, a), (node.orelse, b))]
        elif V.is_literal(a) or V.is_literal(b):
            t = a.type if not V.is_literal(a) else b.type
            typed = [self.checked(node, V.coerce, x, t) for x in (a, b)]
        else:
            typed = [a, b]
        if typed[0].type != typed[1].type:
            raise self.error(node, f"both sides of a conditional expression must have one type; got "
                                   f"{typed[0].type.name} and {typed[1].type.name}: cast one of them")
        if V.is_literal(cond):
            return typed[0] if cond.attr else typed[1]
        if literals:  # they stay literals: a store converts each, range-checked (u32_buf[0] = 5 if c else -1)
            return Expr("ifexp", typed[0].type, (cond, a, b), attr="literals", loc=self.loc(node))
        return Expr("ifexp", typed[0].type, (cond, *typed), loc=self.loc(node))

    def expr_tuple(self, node):
        raise self.error(node, "tuples can only be returned from helpers or unpacked in an assignment")

    def expr_call(self, node):
        func = self.visit(node.func)
        if not isinstance(func, Static):
            raise self.error(node.func, "only functions, types and intrinsics can be called")
        return calls.call(self, func.obj, node)

    def is_builtin(self, func_node, obj):
        """Whether ``func_node`` names the Python object ``obj``."""
        try:
            f = self.visit(func_node)
        except CompileError:
            return False
        return isinstance(f, Static) and f.obj is obj

    def static(self, node):
        """The compile-time object an expression names, or None."""
        r = self.visit(node)
        return r.obj if isinstance(r, Static) else None

    # ---- helpers --------------------------------------------------------------------------------
    def call_helper(self, fn, node, args):
        """Compile (or reuse) the specialisation of helper ``fn`` for these arguments; return the call."""
        return helpers.call(self, fn, node, args)


def describe(obj):
    """A short phrase naming a Python object for error messages."""
    if isinstance(obj, type):
        return f"class '{obj.__name__}'"
    if callable(obj) and hasattr(obj, "__name__"):
        return f"'{obj.__name__}'"
    module = getattr(obj, "__name__", None)
    if module:
        return f"module '{module}'"
    return f"a {type(obj).__name__} object"


STATEMENTS = {
    ast.Pass: FunctionCompiler.stmt_pass, ast.Expr: FunctionCompiler.stmt_expr,
    ast.Assign: FunctionCompiler.stmt_assign, ast.AnnAssign: FunctionCompiler.stmt_annassign,
    ast.AugAssign: FunctionCompiler.stmt_augassign, ast.If: FunctionCompiler.stmt_if,
    ast.While: FunctionCompiler.stmt_while, ast.For: FunctionCompiler.stmt_for,
    ast.Break: FunctionCompiler.stmt_break, ast.Continue: FunctionCompiler.stmt_continue,
    ast.Return: FunctionCompiler.stmt_return,
}

EXPRESSIONS = {
    ast.Constant: FunctionCompiler.expr_constant, ast.Name: FunctionCompiler.expr_name,
    ast.Attribute: FunctionCompiler.expr_attribute, ast.Subscript: FunctionCompiler.expr_subscript,
    ast.BinOp: FunctionCompiler.expr_binop, ast.UnaryOp: FunctionCompiler.expr_unaryop,
    ast.BoolOp: FunctionCompiler.expr_boolop, ast.Compare: FunctionCompiler.expr_compare,
    ast.IfExp: FunctionCompiler.expr_ifexp, ast.Call: FunctionCompiler.expr_call,
    ast.Tuple: FunctionCompiler.expr_tuple,
}
