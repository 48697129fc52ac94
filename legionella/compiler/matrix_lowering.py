"""Lowering of the matrix ops to SPIR-V (the matrix types themselves are in :class:`~.lower.ModuleLowering`).

* ``matmul`` is one of OpMatrixTimesVector, OpVectorTimesMatrix, OpMatrixTimesMatrix and
  OpMatrixTimesScalar (the attribute names it).
* ``matrix_map`` is numpy's element-wise operator: SPIR-V has no element-wise matrix arithmetic, so it
  runs column by column (OpCompositeExtract, the vector instruction, OpCompositeConstruct); a scalar
  operand is splat into a column.
* ``transpose`` is OpTranspose; ``determinant`` and ``inverse`` are GLSL.std.450 ``ext`` ops.

Each function takes the :class:`~.lower.FunctionLowering` and the IR expression; :data:`LOWERINGS`
maps IR ops to them for the lowering's dispatch table.
"""
from ..lang.types import MatrixType
from ..spirv import Op

# matrix_map's operator -> the f32 vector instruction applied to each column
COLUMN_OPCODES = {"add": Op.FAdd, "sub": Op.FSub, "mul": Op.FMul, "truediv": Op.FDiv, "neg": Op.FNegate}


def lower_matmul(fl, e):
    """``@``: OpMatrixTimesVector, OpVectorTimesMatrix or OpMatrixTimesMatrix (named by ``e.attr``)."""
    a, b = (fl.expr(x) for x in e.args)
    return fl.f.op(getattr(Op, e.attr), fl.ml.type(e.type), a, b)


def lower_matrix_map(fl, e):
    """An element-wise matrix operation, column by column; a scalar operand is splatted to a column."""
    f, ml, mt = fl.f, fl.ml, e.type
    column_type = ml.type(mt.column)
    operands = [(fl.expr(x), isinstance(x.type, MatrixType)) for x in e.args]
    opcode = COLUMN_OPCODES[e.attr]
    splats = {value: f.op(Op.CompositeConstruct, column_type, *[value] * mt.column.n)
              for value, is_matrix in operands if not is_matrix}
    columns = []
    for j in range(mt.cols):
        parts = [f.op(Op.CompositeExtract, column_type, value, j) if is_matrix else splats[value]
                 for value, is_matrix in operands]
        columns.append(f.op(opcode, column_type, *parts))
    return f.op(Op.CompositeConstruct, ml.type(mt), *columns)


def lower_transpose(fl, e):
    """``transpose(m)``: OpTranspose."""
    return fl.f.op(Op.Transpose, fl.ml.type(e.type), fl.expr(e.args[0]))


LOWERINGS = {"matmul": lower_matmul, "matrix_map": lower_matrix_map, "transpose": lower_transpose}
