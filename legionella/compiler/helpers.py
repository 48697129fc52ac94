"""Helper functions called from kernels: arguments bound to parameters, one specialisation per distinct
combination of argument types (literal arguments and buffers are bound at compile time), return types.

The caller is a :class:`~.frontend.FunctionCompiler`; each specialisation is compiled by a new one of the
same class, with the call chain extended by one link for error messages.
"""
import inspect

from ..lang.types import BufferType, as_lang_type
from . import values as V
from .ir import Break, BufferRef, Expr, Function, If, Loop, Return, Var
from .resolve import function_source


def call(fc, fn, node, args):
    """The ``call`` expression of helper ``fn`` from compiler ``fc``; ``args`` is ``(positional, keyword)``."""
    src = function_source(fn)
    if fn in fc.ctx.active:
        raise fc.error(node, f"recursion is not supported: '{fn.__name__}' calls itself (directly or "
                             "through other helpers); rewrite it as a loop")
    bound = bind_arguments(fc, fn, node, args)
    key = (fn, tuple(arg_key(v) for _, v in bound))
    spec = fc.ctx.specialisations.get(key)
    if spec is None:
        spec = specialise(fc, fn, src, node, bound)
        fc.ctx.specialisations[key] = spec
    if spec not in fc.function.calls:
        fc.function.calls.append(spec)
    runtime_args = [v for _, v in bound if isinstance(v, Expr) and not V.is_literal(v)]
    return Expr("call", spec.return_type, runtime_args, attr=spec, loc=fc.loc(node))


def bind_arguments(fc, fn, node, args):
    """``[(parameter name, value)]``: defaults applied, buffers unwrapped, annotated parameters checked."""
    from .frontend import Static
    try:
        bound = inspect.signature(fn).bind(*args[0], **args[1])
    except TypeError as e:
        raise fc.error(node, f"wrong arguments for helper '{fn.__name__}': {e}") from None
    bound.apply_defaults()
    annotations = getattr(fn, "__annotations__", {})
    result = []
    for name, value in bound.arguments.items():
        if not isinstance(value, Expr):
            if isinstance(value, (bool, int, float)):  # a default value
                value = V.literal(value, fc.loc(node))
            elif isinstance(value, Static) and isinstance(value.obj, BufferRef):
                value = value.obj
            else:
                raise fc.error(node, f"argument '{name}' of '{fn.__name__}': "
                                     + fc.static_message(value, "passed to a helper"))
        if name in annotations and isinstance(value, Expr):
            t = annotation_type(annotations[name])
            if t is not None and not isinstance(t, BufferType):
                if not (V.is_literal(value) or value.type == t):
                    raise fc.error(node, f"argument '{name}' of '{fn.__name__}' is annotated {t.name} "
                                         f"but got a {value.type.name}; convert it with {t.name}(...)")
                value = fc.checked(node, V.coerce, value, t)
        result.append((name, value))
    return result


def specialise(fc, fn, src, node, bound):
    """Compile one specialisation of helper ``fn`` for the bound arguments."""
    from .frontend import Static
    ctx = fc.ctx
    caller = f"{'kernel' if fc.function.is_kernel else 'helper'} '{fc.function.name.split('.')[0]}'"
    link = f"helper '{fn.__name__}' called from {caller} at {fc.loc(node).filename}:{fc.loc(node).line}"
    count = ctx.names.get(fn.__name__, 0)
    ctx.names[fn.__name__] = count + 1
    name = fn.__name__ if count == 0 else f"{fn.__name__}.{count}"
    scope, params = {}, []
    for pname, value in bound:
        if isinstance(value, Expr) and not V.is_literal(value):
            var = Var(pname, value.type)
            scope[pname] = var
            params.append(var)
        elif isinstance(value, BufferRef):
            scope[pname] = Static(value)
        else:
            scope[pname] = value
    function = Function(name, params, None, [], src.loc(src.tree))
    compiler = type(fc)(ctx, src, function, scope, [link, *fc.chain])
    ctx.active.append(fn)
    try:
        function.body = compiler.block(src.tree.body)
    finally:
        ctx.active.pop()
    function.return_type = return_type(compiler)
    declared = annotation_type(getattr(fn, "__annotations__", {}).get("return"))
    if declared is not None and function.return_type is not None and declared != function.return_type:
        raise compiler.error(src.tree, f"helper '{fn.__name__}' is annotated to return {declared.name} but "
                                       f"returns {function.return_type.name}; convert the returned value")
    ctx.helpers.append(function)
    return function


def return_type(compiler):
    """A compiled helper's return type from its return statements (literals adapt to the typed ones),
    or None when it returns no value."""
    returns = compiler.returns
    valued = [(s, n) for s, n in returns if s.value is not None]
    if not valued:
        return None
    if len(valued) != len(returns):
        raise compiler.error(returns[0][1], "a helper must return a value on every return or on none")
    typed = [s.value.type for s, _ in valued if not V.is_literal(s.value)]
    t = typed[0] if typed else V.default_typed(valued[0][0].value).type
    for stmt, node in valued:
        if not V.is_literal(stmt.value) and stmt.value.type != t:
            raise compiler.error(node, f"this returns a {stmt.value.type.name}, but an earlier return gives "
                                       f"a {t.name}; convert it with {t.name}(...)")
        if V.is_literal(stmt.value):
            stmt.value = compiler.checked(node, V.coerce, stmt.value, t)
    if not ends_with_return(compiler.function.body):
        raise compiler.error(compiler.src.tree, f"helper '{compiler.src.name}' can reach its end without "
                                                "returning a value; add a return at the end")
    return t


def annotation_type(annotation):
    """The lang type a helper's annotation names, or None (unknown objects and strings are ignored, as
    Python ignores them)."""
    try:
        return as_lang_type(annotation)
    except TypeError:  # a dataclass whose fields are not lang types
        return None


def ends_with_return(stmts):
    """Whether every path through ``stmts`` ends in a return (conservatively)."""
    if not stmts:
        return False
    last = stmts[-1]
    if isinstance(last, Return):
        return True
    if isinstance(last, If):
        return ends_with_return(last.body) and ends_with_return(last.orelse)
    if isinstance(last, Loop) and last.cond.op == "literal" and last.cond.attr is True:
        return not breaks_out(last.body)  # while True: leaves only by return, unless it breaks
    return False


def breaks_out(stmts):
    """Whether a ``break`` in ``stmts`` (not inside a nested loop) leaves the enclosing loop."""
    for s in stmts:
        if isinstance(s, Break):
            return True
        if isinstance(s, If) and (breaks_out(s.body) or breaks_out(s.orelse)):
            return True
    return False


def arg_key(value):
    """What makes two calls of a helper share one specialisation."""
    if isinstance(value, BufferRef):
        return ("buffer", id(value))
    if V.is_literal(value):
        return ("literal", type(value.attr).__name__, value.attr)
    return ("value", value.type)
