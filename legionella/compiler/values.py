"""Building typed IR expressions under the type rules: literals, conversions, operators.

The frontend turns AST nodes into calls of these functions; each returns an :class:`~.ir.Expr` or raises
:class:`~.typerules.TypeRuleError` (the frontend adds the source location). A *literal* is an Expr with
op ``"literal"``: a Python value that has not met a typed operand yet (NEP 50's weak scalar). Two
literals fold in Python, exactly as the emulator computes them.
"""
import operator

import numpy as np

from ..lang.types import MatrixType, ScalarType, StructType, VectorType, boolean, f32, i32, scalar_of_dtype, u32
from .glsl_precision import require_float32
from .ir import Expr
from .typerules import (TupleType, TypeRuleError, literal_type, promote, require_fits, scalar_of, true_division,
                        weak_with)


def literal(value, loc):
    """A weak Python literal (bool, int or float)."""
    return Expr("literal", literal_type(value), attr=value, loc=loc)


def is_literal(e):
    """Whether ``e`` is a weak Python literal."""
    return e.op == "literal"


def const(value, type, loc):
    """A typed constant; vectors take a tuple of component values."""
    return Expr("const", type, attr=value, loc=loc)


def _component_value(value, scalar):
    """A Python value converted to a component of ``scalar`` (ints wrap, floats truncate into ints)."""
    if scalar.kind == "b":
        return bool(value)
    if scalar.kind == "f":
        return float(value)
    return int(scalar(value))


def coerce(e, t):
    """``e`` converted to type ``t`` (numpy's unsafe cast; literals become constants of ``t``)."""
    if e.op == "ifexp" and e.attr == "literals":  # c ? 5 : -1 (frontend.expr_ifexp): convert each literal
        return Expr("ifexp", t, (e.args[0], coerce(e.args[1], t), coerce(e.args[2], t)), loc=e.loc)
    if e.type == t and e.op != "literal":
        return e
    if is_literal(e):
        s = scalar_of(t)
        if s is None:
            raise TypeRuleError(f"cannot use a literal as a {t.name}")
        if s.kind in "iu" and isinstance(e.attr, float):
            raise TypeRuleError(f"a float literal cannot be used as {t.name}; write {s.name}({e.attr!r}) to "
                                "truncate it")
        if s.kind in "iu" and not isinstance(e.attr, bool):
            require_fits(e.attr, s)  # a[0] = -1 into a u32 buffer: numpy raises, so do we
        largest = float(np.finfo(s.dtype).max) if s.kind == "f" else None
        if largest is not None and largest < abs(e.attr) < float("inf"):
            raise TypeRuleError(f"the literal {e.attr!r} is beyond {s.name}'s range (largest {largest:.4g}); "
                                f"write f64({e.attr!r}) or math.inf")
        c = const(_component_value(e.attr, s), s, e.loc)
        return splat(c, t) if isinstance(t, VectorType) else c
    if isinstance(e.type, ScalarType) and isinstance(t, VectorType):
        return splat(coerce(e, t.scalar), t)
    if isinstance(e.type, VectorType) and isinstance(t, VectorType) and e.type.n == t.n:
        return Expr("convert", t, (e,), loc=e.loc)
    if isinstance(e.type, ScalarType) and isinstance(t, ScalarType):
        if t.kind == "b":
            return compare("ne", e, literal(0, e.loc))
        if e.type.kind == "b":
            return Expr("select", t, (e, const(_component_value(1, t), t, e.loc),
                                      const(_component_value(0, t), t, e.loc)), loc=e.loc)
        return Expr("convert", t, (e,), loc=e.loc)
    raise TypeRuleError(f"cannot convert {e.type.name} to {t.name}")


def splat(e, vt):
    """A scalar repeated into every component of vector type ``vt``."""
    return Expr("construct", vt, (e,) * vt.n, loc=e.loc)


def common_type(a, b):
    """The type two operands meet at (weak literals adapt to the typed side)."""
    if is_literal(a) and is_literal(b):
        raise AssertionError("two literals fold before typing")
    if is_literal(a):
        return weak_with(a.attr, b.type)
    if is_literal(b):
        return weak_with(b.attr, a.type)
    return promote(a.type, b.type)


_PY_BINOPS = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "truediv": operator.truediv,
              "floordiv": operator.floordiv, "mod": operator.mod, "pow": operator.pow,
              "lshift": operator.lshift, "rshift": operator.rshift, "bitand": operator.and_,
              "bitor": operator.or_, "bitxor": operator.xor}
_PY_CMPS = {"eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "le": operator.le, "gt": operator.gt,
            "ge": operator.ge}
INT_ONLY = frozenset({"lshift", "rshift", "bitand", "bitor", "bitxor"})
BOOL_OK = frozenset({"bitand", "bitor", "bitxor"})


FOLD_BITS = 128  # a folded integer wider than this fits no type: refuse it before Python computes it


def fold_literals(op, a, b, loc):
    """Two literals combine in Python, as the emulator does."""
    table = _PY_CMPS if op in _PY_CMPS else _PY_BINOPS
    x, y = a.attr, b.attr
    if isinstance(x, int) and isinstance(y, int) and (
            op == "pow" and abs(x) > 1 and y * (abs(x).bit_length() - 1) > FOLD_BITS  # |x| ** y >= 2 ** that
            or op == "lshift" and x and y > FOLD_BITS):
        raise TypeRuleError(f"the constant expression {x} {OP_SYMBOLS[op]} {y} is far beyond any integer type")
    try:
        value = table[op](x, y)
    except ZeroDivisionError:
        raise TypeRuleError("division by zero in a constant expression") from None
    except (TypeError, ValueError, OverflowError) as e:
        raise TypeRuleError(f"cannot compute this constant expression: {e}") from None
    if type(value) not in (bool, int, float):  # (-8.0) ** (1 / 3) is complex in Python
        raise TypeRuleError(f"the constant expression gives a {type(value).__name__} ({value}), which kernels "
                            "do not have")
    return literal(value, loc)


def _check_operands(op, t):
    s = scalar_of(t)
    if isinstance(t, (StructType, TupleType, MatrixType)) or s is None:
        raise TypeRuleError(f"operator '{OP_SYMBOLS[op]}' is not defined for {t.name}")
    if s.kind == "b" and op not in BOOL_OK:
        raise TypeRuleError(f"arithmetic on bool values is not supported when both operands are bool "
                            f"('{OP_SYMBOLS[op]}': numpy and Python disagree, True + True is True in numpy and "
                            "2 in Python); convert one with i32(...) first")
    if op in INT_ONLY and s.kind == "f":
        raise TypeRuleError(f"operator '{OP_SYMBOLS[op]}' needs integer operands, not {t.name}")


def _refuse_bool_with_literal(op, a, b):
    """``(x > 2) * 5``: numpy gives a bool with a Python number its default int64 (float64 for a float),
    which the emulator follows and a device may lack, so the bool must be converted first."""
    for bool_side, other in ((a, b), (b, a)):
        if (is_literal(other) and type(other.attr) in (int, float) and not is_literal(bool_side)
                and getattr(scalar_of(bool_side.type), "kind", None) == "b"):
            cast = "f32" if type(other.attr) is float else "i32"
            terms = [f"{cast}(cond)", repr(other.attr)] if bool_side is a else [repr(other.attr), f"{cast}(cond)"]
            raise TypeRuleError(f"a bool {OP_SYMBOLS[op]} the literal {other.attr!r}: numpy makes it "
                                f"{'float64' if cast == 'f32' else 'int64'}, as kernel.emulate does; convert the "
                                f"bool first: {f' {OP_SYMBOLS[op]} '.join(terms)}")


OP_SYMBOLS = {"add": "+", "sub": "-", "mul": "*", "truediv": "/", "floordiv": "//", "mod": "%", "pow": "**",
              "lshift": "<<", "rshift": ">>", "bitand": "&", "bitor": "|", "bitxor": "^", "eq": "==",
              "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">=", "matmul": "@"}


def binary(op, a, b, loc):
    """``a <op> b`` with numpy's result type; ``**`` with a literal integer exponent multiplies."""
    if op == "matmul":
        return matmul(a, b, loc)
    if is_literal(a) and is_literal(b):
        return fold_literals(op, a, b, loc)
    if is_matrix(a) or is_matrix(b):
        return matrix_binary(op, a, b, loc)
    _refuse_bool_with_literal(op, a, b)
    t = common_type(a, b)
    _check_operands(op, t)
    if op == "pow":
        return power(a, b, t, loc)
    if op == "truediv":
        t = true_division(t)
    return Expr("binop", t, (coerce(a, t), coerce(b, t)), attr=op, loc=loc)


def power(a, b, t, loc):
    """``a ** b``: a small literal integer exponent becomes multiplications (exact, any sign of ``a``);
    integer powers need a literal exponent >= 0; other float powers use GLSL ``Pow``."""
    if is_literal(b) and isinstance(b.attr, int) and not isinstance(b.attr, bool):
        n = b.attr
        if scalar_of(t).kind in "iu" and n < 0:
            raise TypeRuleError("integers to negative powers are not allowed (numpy raises); use a float base")
        if abs(n) <= 16:
            base = coerce(a, t)
            result = coerce(literal(1, loc), t)
            for _ in range(abs(n)):
                result = Expr("binop", t, (result, base), attr="mul", loc=loc) if _ else base
            if n < 0:
                result = Expr("binop", t, (coerce(literal(1, loc), t), result), attr="truediv", loc=loc)
            return result
    if scalar_of(t).kind in "iu":
        raise TypeRuleError("integer '**' needs a literal exponent between 0 and 16; write a loop, or use "
                            "float operands")
    require_float32("Pow", t)
    return Expr("ext", t, (coerce(a, t), coerce(b, t)), attr="Pow", loc=loc)


def compare(op, a, b, loc=None):
    """``a <op> b`` for scalars, in their common type; the result is bool."""
    loc = loc or a.loc
    if is_literal(a) and is_literal(b):
        return fold_literals(op, a, b, loc)
    if not is_literal(a) and not is_literal(b) and {a.type, b.type} == {i32, u32}:
        return mixed_sign_compare(op, a, b, loc)
    t = common_type(a, b)
    if not isinstance(t, ScalarType):
        raise TypeRuleError(f"comparisons need scalars, not {t.name}; compare components (v.x < w.x)")
    if t.kind == "b" and op not in ("eq", "ne"):
        raise TypeRuleError("bool values can only be compared with == and !=")
    return Expr("cmp", boolean, (coerce(a, t), coerce(b, t)), attr=op, loc=loc)


# The result of ``signed <op> unsigned`` (or reversed) when the signed operand is negative.
_NEGATIVE_LEFT = {"eq": False, "ne": True, "lt": True, "le": True, "gt": False, "ge": False}
_NEGATIVE_RIGHT = {"eq": False, "ne": True, "lt": False, "le": False, "gt": True, "ge": True}


def mixed_sign_compare(op, a, b, loc):
    """i32 against u32, exactly as numpy compares them (in i64), without needing 64-bit integers: a
    negative signed operand decides the result; otherwise both compare as u32."""
    signed_left = a.type == i32
    signed = a if signed_left else b
    negative = Expr("cmp", boolean, (signed, const(0, i32, loc)), attr="lt", loc=loc)
    outcome = (_NEGATIVE_LEFT if signed_left else _NEGATIVE_RIGHT)[op]
    as_unsigned = [x if x.type == u32 else Expr("convert", u32, (x,), loc=loc) for x in (a, b)]
    rest = Expr("cmp", boolean, as_unsigned, attr=op, loc=loc)
    return Expr("select", boolean, (negative, const(outcome, boolean, loc), rest), loc=loc)


def unary(op, e, loc):
    """``-e``, ``+e``, ``~e``."""
    if is_literal(e):
        value = {"neg": operator.neg, "pos": operator.pos, "invert": operator.invert}[op](e.attr)
        return literal(value, loc)
    s = scalar_of(e.type)
    if s is None or (isinstance(e.type, MatrixType) and op == "invert"):
        raise TypeRuleError(f"unary operator is not defined for {e.type.name}")
    if op == "pos":
        return e
    if isinstance(e.type, MatrixType):
        return Expr("matrix_map", e.type, (e,), attr=op, loc=loc)
    if s.kind == "b":
        if op == "invert":
            return Expr("unop", e.type, (e,), attr="not", loc=loc)
        raise TypeRuleError("unary '-' and '+' are not defined for bool (numpy refuses them); convert with "
                            "i32(...) first")
    if op == "invert" and s.kind == "f":
        raise TypeRuleError(f"operator '~' needs an integer operand, not {e.type.name}")
    return Expr("unop", e.type, (e,), attr=op, loc=loc)


# ---- matrices (column-major f32): each operator means what it means in numpy ----------------------
# Element-wise operators: lowered column by column (``matrix_map``), except matrix * scalar, which is
# OpMatrixTimesScalar (``matmul``); ``@`` is the linear-algebra product.
MATRIX_ELEMENTWISE = frozenset({"add", "sub", "mul", "truediv"})
MATMUL_FORMS = {(MatrixType, VectorType): "MatrixTimesVector", (VectorType, MatrixType): "VectorTimesMatrix",
                (MatrixType, MatrixType): "MatrixTimesMatrix"}


def is_matrix(e):
    """Whether ``e`` is a typed matrix value."""
    return not is_literal(e) and isinstance(e.type, MatrixType)


def matmul(a, b, loc):
    """``a @ b``: matrix @ vector, vector @ matrix or matrix @ matrix (f32; inner sizes must agree)."""
    form = MATMUL_FORMS.get(tuple(None if is_literal(x) else type(x.type) for x in (a, b)))
    if form is None:
        names = " and ".join("a literal" if is_literal(x) else f"a {x.type.name}" for x in (a, b))
        hint = "; for two vectors use dot(a, b)" if all(isinstance(x.type, VectorType) for x in (a, b)
                                                       if not is_literal(x)) else ""
        raise TypeRuleError(f"'@' is the matrix product: it takes a matrix and a vector, or two matrices, "
                            f"not {names}{hint}")
    for x in (a, b):
        if isinstance(x.type, VectorType) and x.type.scalar != f32:
            raise TypeRuleError(f"'@' multiplies f32 vectors, not {x.type.name}; convert with vec{x.type.n}(...)")
    inner_a = a.type.cols if isinstance(a.type, MatrixType) else a.type.n
    inner_b = b.type.column.n if isinstance(b.type, MatrixType) else b.type.n
    if inner_a != inner_b:
        raise TypeRuleError(f"the sizes do not match in {a.type.name} @ {b.type.name}: {inner_a} against "
                            f"{inner_b}")
    if form == "MatrixTimesVector":
        t = a.type.column
    elif form == "VectorTimesMatrix":
        t = VectorType(f32, b.type.cols)
    else:
        t = MatrixType(a.type.column, b.type.cols)
    return Expr("matmul", t, (a, b), attr=form, loc=loc)


def matrix_binary(op, a, b, loc):
    """``+ - * /`` with a matrix operand: element-wise with a matrix of the same size or an f32 scalar."""
    mat, other = (a, b) if is_matrix(a) else (b, a)
    mt = mat.type
    if op not in MATRIX_ELEMENTWISE:
        raise TypeRuleError(f"operator '{OP_SYMBOLS[op]}' is not defined for {mt.name}")
    if not is_literal(other) and isinstance(other.type, VectorType):
        if op == "mul":
            product = "m @ v for the matrix-vector product" if mat is a else "v @ m for the vector-matrix product"
            raise TypeRuleError(f"'*' of a {mt.name} and a {other.type.name} would be element-wise (numpy's "
                                f"broadcasting); use {product}")
        raise TypeRuleError(f"cannot combine a {a.type.name} and a {b.type.name} with '{OP_SYMBOLS[op]}'")
    if is_matrix(other):
        if other.type != mt:
            raise TypeRuleError(f"cannot combine a {a.type.name} and a {b.type.name}: the sizes differ")
        return Expr("matrix_map", mt, (a, b), attr=op, loc=loc)
    if not is_literal(other) and other.type != mt.column.scalar:
        raise TypeRuleError(f"a {mt.name} combines with f32 scalars, not {other.type.name}; convert with "
                            "f32(...)")
    scalar = coerce(other, mt.column.scalar)
    if op == "mul":
        return Expr("matmul", mt, (mat, scalar), attr="MatrixTimesScalar", loc=loc)
    return Expr("matrix_map", mt, (a, scalar) if mat is a else (scalar, b), attr=op, loc=loc)


def truth(e):
    """Python truthiness of a scalar as a bool expression (``if n:`` means ``n != 0``)."""
    if is_literal(e):
        return literal(bool(e.attr), e.loc)
    if e.type == boolean:
        return e
    if isinstance(e.type, ScalarType):
        return compare("ne", e, literal(0, e.loc), e.loc)
    raise TypeRuleError(f"a {e.type.name} cannot be used as a condition; compare its components")


def logical_not(e, loc):
    """``not e`` of a bool expression."""
    if is_literal(e):
        return literal(not e.attr, loc)
    return Expr("unop", boolean, (e,), attr="not", loc=loc)


def logical(op, values, loc):
    """Short-circuit ``and``/``or`` over bool operands."""
    result = values[-1]
    for v in reversed(values[:-1]):
        if is_literal(v):
            result = (result if bool(v.attr) else v) if op == "and" else (v if bool(v.attr) else result)
            continue
        result = Expr(op, boolean, (v, coerce(result, boolean)), loc=loc)
    return result


def swizzle(e, name, loc):
    """``v.x`` / ``v.xy`` / ``v.zyx``: one component or a shuffled vector."""
    vt = e.type
    idx = swizzle_indices(vt, name)
    if idx is None:
        raise TypeRuleError(f"{vt.name} has no component or swizzle '{name}'")
    if len(idx) == 1:
        return Expr("extract", vt.scalar, (e,), attr=idx[0], loc=loc)
    return Expr("shuffle", VectorType(vt.scalar, len(idx)), (e,), attr=idx, loc=loc)


def swizzle_indices(vt, name):
    """The component indices a swizzle names, or None."""
    for letters in ("xyzw", "rgba"):
        if all(c in letters[:vt.n] for c in name) and 1 <= len(name) <= 4:
            return tuple(letters.index(c) for c in name)
    return None


def default_typed(e):
    """A literal standing alone takes its default type (i32, f32 or bool)."""
    if is_literal(e):
        value = e.attr
        t = literal_type(value)
        if t == i32 and not isinstance(value, bool) and not (-2**31 <= value < 2**31):
            raise TypeRuleError(f"the literal {value} does not fit in i32; write u32({value}) or i64({value})")
        return const(_component_value(value, t), t, e.loc)
    return e


def numpy_constant(value, loc):
    """A numpy scalar read from a module becomes a typed constant."""
    t = scalar_of_dtype(np.asarray(value).dtype)
    if t is None:
        raise TypeRuleError(f"a numpy {np.asarray(value).dtype} constant cannot be used in a kernel")
    return const(_component_value(value.item(), t), t, loc)
