"""Matrices in kernel code: constructors, ``transpose``/``determinant``/``inverse``, and the std430 rule
for matrix buffers. The operators (``@``, ``*`` with a scalar, element-wise ``+ - * /``) are typed in
:mod:`.values`; :mod:`.matrix_lowering` emits all of them.

Matrices are ``mat2/3/4`` (f32, square, column-major as in SPIR-V): ``m[j]`` is column ``j``, and
``mat3(x00, x01, ..., x22)`` lists the components column after column, as GLSL does.
"""
import ast

from ..lang import intrinsics as lang
from ..lang.types import MatrixType, ScalarType, VectorType
from . import values as V
from .ir import Assign, Expr, Var


def construct(fc, mt, node):
    """``mat3(c0, c1, c2)`` from columns, ``mat3(x00, ..., x22)`` from scalars in column-major order, or
    ``mat3(s)``: ``s`` on the diagonal, zero elsewhere."""
    args = [fc.value(a) for a in node.args]
    n, rows = mt.cols, mt.column.n
    loc = fc.loc(node)
    vectors = [a for a in args if not V.is_literal(a) and isinstance(a.type, VectorType)]
    scalars = [a for a in args if V.is_literal(a) or isinstance(a.type, ScalarType)]
    if len(args) == 1 and scalars:
        return _diagonal(fc, mt, fc.checked(node, V.coerce, args[0], mt.column.scalar), loc)
    if len(args) == n and len(vectors) == n and all(v.type.n == rows for v in vectors):
        columns = [fc.checked(node, V.coerce, v, mt.column) for v in vectors]
        return Expr("construct", mt, columns, loc=loc)
    if len(args) == n * rows and len(scalars) == n * rows:
        parts = [fc.checked(node, V.coerce, s, mt.column.scalar) for s in scalars]
        columns = [Expr("construct", mt.column, parts[j * rows:(j + 1) * rows], loc=loc) for j in range(n)]
        return Expr("construct", mt, columns, loc=loc)
    got = ", ".join("a literal" if V.is_literal(a) else a.type.name for a in args) or "nothing"
    raise fc.error(node, f"{mt.name}() takes {n} vec{rows} columns, {n * rows} numbers (column after column) "
                         f"or one number for the diagonal; got {got}")


def _diagonal(fc, mt, s, loc):
    """A matrix with ``s`` on the diagonal; ``s`` is evaluated once (bound to a local unless constant)."""
    tmp = None
    if s.op != "const":
        tmp = Var("diagonal", s.type)
        s_read = Expr("local", s.type, attr=tmp, loc=loc)
    else:
        s_read = s
    zero = V.const(0.0, mt.column.scalar, loc)
    columns = [Expr("construct", mt.column, [s_read if r == j else zero for r in range(mt.column.n)], loc=loc)
               for j in range(mt.cols)]
    matrix = Expr("construct", mt, columns, loc=loc)
    return matrix if tmp is None else Expr("let", mt, (s, matrix), attr=tmp, loc=loc)


def _column_index(fc, mt, index_node):
    k = fc.value(index_node)
    if not V.is_literal(k) or not isinstance(k.attr, int) or not -mt.cols <= k.attr < mt.cols:
        raise fc.error(index_node, f"a {mt.name} column index must be a literal in 0..{mt.cols - 1}")
    return k.attr % mt.cols


def column(fc, m, node):
    """``m[j]``: column ``j`` of a matrix value (a vector), for a literal ``j``."""
    return Expr("extract", m.type.column, (m,), attr=_column_index(fc, m.type, node.slice), loc=fc.loc(node))


def store_column(fc, target, value, out, value_node):
    """``m[j] = v`` on a local matrix: the matrix rebuilt with column ``j`` replaced (a scalar fills it)."""
    base = target.value
    var = fc.scope.get(base.id) if isinstance(base, ast.Name) else None
    if not isinstance(var, Var):
        raise fc.error(target, "can only assign columns of a local matrix variable (m[j] = v); store a whole "
                               "matrix into a buffer element (a[i] = m)")
    mt = var.type
    k = _column_index(fc, mt, target.slice)
    column_value = fc.checked(value_node, V.coerce, value, mt.column)
    loc = fc.loc(target)
    current = Expr("local", mt, attr=var, loc=loc)
    out.append(Assign(loc, var, Expr("insert", mt, (current, column_value), attr=k, loc=loc)))


def _matrix_argument(fc, node, name):
    if len(node.args) != 1:
        raise fc.error(node, f"{name}() takes one matrix, got {len(node.args)} arguments")
    m = fc.value(node.args[0])
    if not V.is_matrix(m):
        what = "a literal" if V.is_literal(m) else f"a {m.type.name}"
        raise fc.error(node.args[0], f"{name}() takes a matrix (mat2, mat3 or mat4), not {what}")
    return m


def transpose(fc, obj, node):
    """``transpose(m)``: ``OpTranspose``."""
    m = _matrix_argument(fc, node, "transpose")
    t = MatrixType(VectorType(m.type.column.scalar, m.type.cols), m.type.column.n)
    return Expr("transpose", t, (m,), loc=fc.loc(node))


def determinant(fc, obj, node):
    """``determinant(m)``: GLSL.std.450 ``Determinant``, an f32."""
    m = _matrix_argument(fc, node, "determinant")
    return Expr("ext", m.type.column.scalar, (m,), attr="Determinant", loc=fc.loc(node))


def inverse(fc, obj, node):
    """``inverse(m)``: GLSL.std.450 ``MatrixInverse``."""
    m = _matrix_argument(fc, node, "inverse")
    return Expr("ext", m.type, (m,), attr="MatrixInverse", loc=fc.loc(node))


HANDLERS = {lang.transpose: transpose, lang.determinant: determinant, lang.inverse: inverse}


def buffer_element_problem(element):
    """Why a matrix cannot be a buffer element, or None: std430 pads mat3's vec3 columns to 16 bytes,
    which a host array of shape (..., 3, 3) float32 does not have."""
    if isinstance(element, MatrixType) and element.padded:
        return (f"Buffer[{element.name}] is not supported: std430 pads each vec{element.column.n} column to "
                f"{element.column_stride} bytes, so a float32 array of shape (..., {element.cols}, "
                f"{element.column.n}) does not match it; use Buffer[mat4] (or Buffer[vec4] columns) and "
                f"build the {element.name} in the kernel")
    return None
