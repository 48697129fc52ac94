"""Calls in kernel code: casts, vector and matrix constructors, intrinsics, ``math.*``, Python builtins, helpers.

Intrinsics and library functions are recognised by identity (the object the name resolves to) and
mapped through the data tables below; GLSL.std.450 instructions are named by their grammar names and
picked per operand kind (``FAbs``/``SAbs``...) by the lowering's table.
"""
import builtins
import math

from ..lang import intrinsics as lang
from ..lang.types import MatrixType, ScalarType, VectorType, boolean, f32, i32, ivec3, vec3
from . import matrices, values as V, workgroup
from .glsl_precision import require_float32
from .ir import BufferRef, Expr
from .resolve import helper_function
from .typerules import promote, require_target, scalar_of, with_scalar

INVOCATION_IDS = {lang.global_id: "global_id", lang.local_id: "local_id", lang.group_id: "group_id",
                  lang.num_groups: "num_groups", lang.workgroup_size: "workgroup_size"}

# Python function -> (GLSL instruction, arity): float in, same float type out.
FLOAT_MATH = {
    math.sqrt: ("Sqrt", 1), math.sin: ("Sin", 1), math.cos: ("Cos", 1), math.tan: ("Tan", 1),
    math.asin: ("Asin", 1), math.acos: ("Acos", 1), math.atan: ("Atan", 1), math.sinh: ("Sinh", 1),
    math.cosh: ("Cosh", 1), math.tanh: ("Tanh", 1), math.asinh: ("Asinh", 1), math.acosh: ("Acosh", 1),
    math.atanh: ("Atanh", 1), math.exp: ("Exp", 1), math.log: ("Log", 1), math.log2: ("Log2", 1),
    math.fabs: ("FAbs", 1), math.degrees: ("Degrees", 1), math.radians: ("Radians", 1),
    math.atan2: ("Atan2", 2), math.pow: ("Pow", 2),
    lang.fma: ("Fma", 3), lang.mix: ("FMix", 3), lang.normalize: ("Normalize", 1),
    lang.cross: ("Cross", 2),
}
if hasattr(math, "exp2"):
    FLOAT_MATH[math.exp2] = ("Exp2", 1)

# Python function -> GLSL instruction rounding a float, then converted to i32 (Python returns an int).
ROUNDING = {math.floor: "Floor", math.ceil: "Ceil", builtins.round: "RoundEven"}

# Functions whose GLSL instruction depends on the operand kind: name -> {kind letter: instruction}.
BY_KIND = {"abs": {"f": "FAbs", "i": "SAbs"}, "min": {"f": "FMin", "i": "SMin", "u": "UMin"},
           "max": {"f": "FMax", "i": "SMax", "u": "UMax"}, "clamp": {"f": "FClamp", "i": "SClamp", "u": "UClamp"}}
KIND_FUNCTIONS = {builtins.abs: "abs", builtins.min: "min", builtins.max: "max", lang.clamp: "clamp"}

NUMPY_HINT = ("; numpy functions and types do not run in kernels: use math.* (math.sqrt, math.exp...), abs, min, "
              "max, and the lang casts (i32(x), f32(x)) on scalars")

FORBIDDEN_BUILTINS = {
    builtins.print: "print() is not supported in kernels; write values to a Buffer and print on the host",
    builtins.range: "range() can only be used as the iterable of a for loop",
    math.trunc: "math.trunc() is not available in kernels; i32(x) truncates toward zero",
}


def call(fc, obj, node):
    """The IR for calling ``obj`` (already resolved) at AST node ``node`` in function compiler ``fc``."""
    if node.keywords and helper_function(obj) is None:
        raise fc.error(node, f"{getattr(obj, '__name__', 'this function')}() takes no keyword arguments in kernels")
    if isinstance(obj, ScalarType):
        return cast(fc, obj, node)
    if isinstance(obj, VectorType):
        return construct_vector(fc, obj, node)
    if isinstance(obj, MatrixType):
        return matrices.construct(fc, obj, node)
    handler = _HANDLERS.get(_key(obj))
    if handler is not None:
        return handler(fc, obj, node)
    fn = helper_function(obj)
    if fn is not None:
        args = [fc.argument(a) for a in node.args]
        kwargs = {k.arg: fc.argument(k.value) for k in node.keywords}
        if any(k.arg is None for k in node.keywords):
            raise fc.error(node, "**kwargs are not supported in kernels")
        result = fc.call_helper(fn, node, (args, kwargs))
        workgroup.check_helper_barriers(fc, node, result.attr)
        return result
    if isinstance(obj, type) and hasattr(obj, "__dataclass_fields__"):
        raise fc.error(node, f"struct values ({obj.__name__}(...)) are not supported; assign the fields of a "
                             "buffer element one by one")
    if _key(obj) in FORBIDDEN_BUILTINS:
        raise fc.error(node, FORBIDDEN_BUILTINS[obj])
    hint = NUMPY_HINT if type(obj).__module__.startswith("numpy") or getattr(obj, "__module__", "") == "numpy" else ""
    raise fc.error(node.func, f"{_name(obj)} cannot be called in a kernel{hint}")


def _key(obj):
    try:
        hash(obj)
    except TypeError:
        return None
    return obj


def _name(obj):
    return f"'{getattr(obj, '__name__', type(obj).__name__)}'"


def _args(fc, node, arity=None, name=None):
    if arity is not None and len(node.args) not in (arity if isinstance(arity, tuple) else (arity,)):
        raise fc.error(node, f"{name}() takes {arity if not isinstance(arity, tuple) else ' or '.join(map(str, arity))} "
                             f"argument{'s' if arity != 1 else ''}, got {len(node.args)}")
    return [fc.value(a) for a in node.args]


def _all_literals(args):
    return all(V.is_literal(a) for a in args)


def _fold(fc, node, fn, args):
    try:
        return V.literal(fn(*(a.attr for a in args)), fc.loc(node))
    except (ValueError, OverflowError, ZeroDivisionError, TypeError) as e:
        raise fc.error(node, f"cannot compute this constant expression: {e}") from None


def cast(fc, t, node):
    """``f32(x)``, ``i32(x)`` (truncates toward zero), ``u32(x)``, ``bool(x)``..."""
    (x,) = _args(fc, node, 1, t.name)
    if V.is_literal(x):
        try:
            return V.const(V._component_value(t(x.attr).item(), t), t, fc.loc(node))
        except (ValueError, OverflowError) as e:  # i32(math.nan), i32(math.inf)
            raise fc.error(node, f"cannot convert {x.attr!r} to {t.name}: {e}") from None
    if not isinstance(x.type, ScalarType):
        raise fc.error(node, f"{t.name}() converts scalars; for a {x.type.name} convert the vector type")
    fc.checked(node, require_target, t, fc.ctx.target)
    if t.kind == "b":
        return fc.checked(node, V.truth, x)
    return fc.checked(node, V.coerce, x, t)


def python_cast(fc, obj, node):
    """``int(x)``, ``float(x)``, ``bool(x)``: like i32(x), f32(x), bool(x)."""
    return cast(fc, {builtins.int: i32, builtins.float: f32, builtins.bool: boolean}[obj], node)


def construct_vector(fc, vt, node):
    """``vec3(x, y, z)``, ``vec4(v.xyz, 1.0)``, ``vec2(s)`` (splat); components convert like numpy."""
    args = _args(fc, node)
    loc = fc.loc(node)
    parts = []
    for a, a_node in zip(args, node.args):
        if not V.is_literal(a) and isinstance(a.type, VectorType):
            parts.extend(Expr("extract", a.type.scalar, (a,), attr=k, loc=loc) for k in range(a.type.n))
        elif V.is_literal(a) or isinstance(a.type, ScalarType):
            parts.append(a)
        else:
            raise fc.error(a_node, f"{vt.name}() takes scalars and vectors, not {a.type.name}")
    if len(parts) == 1:
        parts = parts * vt.n
    if len(parts) != vt.n:
        raise fc.error(node, f"{vt.name}() takes {vt.n} components, got {len(parts)}")
    parts = [fc.checked(node, V.coerce, p, vt.scalar) if not V.is_literal(p) else
             V.const(V._component_value(p.attr, vt.scalar), vt.scalar, loc) for p in parts]
    return Expr("construct", vt, parts, loc=loc)


def invocation_id(fc, obj, node):
    """``global_id()`` and friends: an ``ivec3`` built from the invocation builtins."""
    _args(fc, node, 0, obj.__name__)
    return Expr("builtin", ivec3, attr=INVOCATION_IDS[obj], loc=fc.loc(node))


def _common(fc, node, args):
    """The common type of several operands (literals adapt), and the operands converted to it."""
    typed = [a for a in args if not V.is_literal(a)]
    t = typed[0].type
    for a in typed[1:]:
        t = fc.checked(node, promote, t, a.type)
    for a in args:
        if V.is_literal(a):
            t = fc.checked(node, V.weak_with, a.attr, t)
    if isinstance(t, MatrixType):
        raise fc.error(node, f"this function takes scalars and vectors, not a {t.name}; matrices take @, "
                             "+ - * / and transpose/determinant/inverse (or apply it to each column m[j])")
    fc.checked(node, require_target, t, fc.ctx.target)
    return t, [fc.checked(node, V.coerce, a, t) for a in args]


def _to_float(fc, node, a):
    """An integer operand of a float function converts to f32 (Python's math converts ints to float)."""
    if V.is_literal(a) or scalar_of(a.type).kind == "f":
        return a
    return fc.checked(node, V.coerce, a, with_scalar(a.type, f32))


def float_math(fc, obj, node):
    """A float function of :data:`FLOAT_MATH`; literal-only math calls fold in Python."""
    instruction, arity = FLOAT_MATH[obj]
    args = _args(fc, node, arity, obj.__name__)
    if _all_literals(args):
        if obj.__module__ == "math":
            return _fold(fc, node, obj, args)
        args = [V.coerce(a, f32) for a in args]
    t, args = _common(fc, node, [_to_float(fc, node, a) for a in args])
    fc.checked(node, require_float32, instruction, t)
    if instruction == "Cross" and t != vec3:
        raise fc.error(node, f"cross() takes two vec3, not {t.name}")
    if instruction == "Normalize" and not isinstance(t, VectorType):
        raise fc.error(node, f"normalize() takes a float vector, not {t.name}")
    return Expr("ext", t, args, attr=instruction, loc=fc.loc(node))


def rounding(fc, obj, node):
    """``math.floor``/``math.ceil``/``round``: round in the float type, then convert to i32."""
    (x,) = _args(fc, node, 1, obj.__name__)
    if V.is_literal(x):
        return _fold(fc, node, obj, [x])
    if not isinstance(x.type, ScalarType):
        raise fc.error(node, f"{obj.__name__}() takes a scalar, not {x.type.name}")
    if x.type.kind != "f":
        return fc.checked(node, V.coerce, x, i32)
    rounded = Expr("ext", x.type, (x,), attr=ROUNDING[obj], loc=fc.loc(node))
    return Expr("convert", i32, (rounded,), loc=fc.loc(node))


def by_kind(fc, obj, node):
    """``abs``/``min``/``max``/``clamp``: the GLSL instruction for the operands' kind."""
    name = KIND_FUNCTIONS[obj]
    arity = {"abs": 1, "clamp": 3}.get(name)
    args = _args(fc, node, arity, name)
    if name in ("min", "max") and len(args) < 2:
        raise fc.error(node, f"{name}() takes two or more values in kernels")
    if name in ("min", "max") and any(isinstance(a.type, VectorType) for a in args if not V.is_literal(a)):
        raise fc.error(node, f"{name}() compares scalars (Python cannot order vectors); use clamp() or "
                             "compare components")
    if _all_literals(args) and name != "clamp":
        return _fold(fc, node, obj, args)
    t, args = _common(fc, node, args)
    kind = scalar_of(t).kind
    if kind == "b":
        raise fc.error(node, f"{name}() is not defined for bool values")
    if name == "abs" and kind == "u":
        return args[0]
    instruction = BY_KIND[name][kind]
    if name in ("abs", "clamp"):
        return Expr("ext", t, args, attr=instruction, loc=fc.loc(node))
    result = args[0]
    for a in args[1:]:
        result = Expr("ext", t, (result, a), attr=instruction, loc=fc.loc(node))
    return result


def length(fc, obj, node):
    """``length(v)`` of a float vector."""
    (v,) = _args(fc, node, 1, "length")
    if V.is_literal(v) or not isinstance(v.type, VectorType) or v.type.scalar.kind != "f":
        raise fc.error(node, "length() takes a float vector")
    return Expr("ext", v.type.scalar, (v,), attr="Length", loc=fc.loc(node))


def dot(fc, obj, node):
    """``dot(a, b)``: ``OpDot`` for floats, a sum of products for integer vectors."""
    a, b = _args(fc, node, 2, "dot")
    if V.is_literal(a) or V.is_literal(b) or not isinstance(a.type, VectorType) or a.type != b.type:
        raise fc.error(node, "dot() takes two vectors of the same type")
    loc = fc.loc(node)
    if a.type.scalar.kind == "f":
        return Expr("dot", a.type.scalar, (a, b), loc=loc)
    products = [Expr("binop", a.type.scalar, (Expr("extract", a.type.scalar, (a,), attr=k, loc=loc),
                                              Expr("extract", a.type.scalar, (b,), attr=k, loc=loc)),
                     attr="mul", loc=loc) for k in range(a.type.n)]
    total = products[0]
    for p in products[1:]:
        total = Expr("binop", a.type.scalar, (total, p), attr="add", loc=loc)
    return total


def select(fc, obj, node):
    """``select(c, a, b)``: both sides evaluated, ``OpSelect``."""
    c, a, b = _args(fc, node, 3, "select")
    cond = fc.checked(node, V.truth, c)
    if V.is_literal(a) and V.is_literal(b):
        a, b = V.default_typed(a), V.default_typed(b)
    t, (a, b) = _common(fc, node, [a, b])
    if V.is_literal(cond):
        return a if cond.attr else b
    if isinstance(t, VectorType):
        cond = V.splat(cond, VectorType(boolean, t.n))
    return Expr("select", t, (cond, a, b), loc=fc.loc(node))


def length_of(fc, obj, node):
    """``len(a)``: a buffer's first dimension, or a vector's width."""
    if len(node.args) != 1:
        raise fc.error(node, "len() takes one argument")
    target = fc.visit(node.args[0])
    buffer = getattr(target, "obj", None)
    if isinstance(buffer, BufferRef):
        return Expr("shape", i32, attr=(buffer, 0), loc=fc.loc(node))
    value = fc.value(node.args[0])
    if isinstance(value.type, VectorType):
        return V.literal(value.type.n, fc.loc(node))
    raise fc.error(node, "len() takes a buffer or a vector")


def classify(fc, obj, node):
    """``math.isnan``/``math.isinf`` (always False for integers)."""
    (x,) = _args(fc, node, 1, obj.__name__)
    if V.is_literal(x):
        return _fold(fc, node, obj, [x])
    if not isinstance(x.type, ScalarType) or x.type.kind != "f":
        return V.literal(False, fc.loc(node))
    return Expr(obj.__name__, boolean, (x,), loc=fc.loc(node))


def fmod(fc, obj, node):
    """``math.fmod``: remainder with the dividend's sign (``OpFRem``)."""
    a, b = _args(fc, node, 2, "fmod")
    if _all_literals([a, b]):
        return _fold(fc, node, obj, [a, b])
    t, args = _common(fc, node, [a, b])
    if scalar_of(t).kind != "f":
        t = with_scalar(t, f32)
        args = [fc.checked(node, V.coerce, x, t) for x in args]
    return Expr("binop", t, args, attr="fmod", loc=fc.loc(node))


_HANDLERS = {**{k: float_math for k in FLOAT_MATH}, **{k: rounding for k in ROUNDING},
             **{k: by_kind for k in KIND_FUNCTIONS}, **{k: invocation_id for k in INVOCATION_IDS},
             lang.length: length, lang.dot: dot, lang.select: select, builtins.len: length_of,
             math.isnan: classify, math.isinf: classify, math.fmod: fmod,
             builtins.int: python_cast, builtins.float: python_cast, builtins.bool: python_cast,
             **workgroup.HANDLERS, **matrices.HANDLERS}
