"""The type rules of the kernel language: numpy's, so the emulator (numpy scalars) agrees by construction.

* Between typed values, promotion is ``np.result_type`` (i32 with u32 gives i64, i32 with f32 gives f64).
* A Python literal is *weak* (NEP 50): it takes the other operand's type (``i32 + 1 -> i32``,
  ``f32 * 0.5 -> f32``), except that a float literal with an integer gives f64 (``i32 * 0.5 -> f64``).
* ``/`` is true division: integers give f64, as in numpy.
* Vectors combine component-wise with scalars or with vectors of the same width.

Each function returns a lang type or raises :class:`TypeRuleError` with a message for the user; the
frontend adds the source location.
"""
import dataclasses

import numpy as np

from ..lang.types import MatrixType, ScalarType, VectorType, boolean, f32, f64, i32, scalar_of_dtype


class TypeRuleError(Exception):
    """A type rule failed; the message is the user-facing explanation (the caller adds the location)."""


@dataclasses.dataclass(frozen=True)
class TupleType:
    """The type of a tuple a helper returns (unpacked by the caller)."""
    elements: tuple

    @property
    def name(self):
        """How the type is written in messages."""
        return f"tuple[{', '.join(t.name for t in self.elements)}]"

    def __repr__(self):
        return self.name


def literal_type(value):
    """The type of a bare literal on its own: bool, i32 or f32."""
    if isinstance(value, bool):
        return boolean
    return i32 if isinstance(value, int) else f32


def scalar_of(t):
    """The component scalar type of a scalar or vector type, else None."""
    if isinstance(t, ScalarType):
        return t
    if isinstance(t, VectorType):
        return t.scalar
    if isinstance(t, MatrixType):
        return t.column.scalar
    return None


def with_scalar(t, scalar):
    """``t`` with its component type replaced (a vector stays a vector of the same width)."""
    if isinstance(t, VectorType):
        return VectorType(scalar, t.n)
    if isinstance(t, MatrixType):
        return MatrixType(VectorType(scalar, t.column.n), t.cols)
    return scalar


def fits(value, scalar):
    """Whether the Python int ``value`` is representable in the integer type ``scalar``."""
    info = np.iinfo(scalar.dtype)
    return info.min <= value <= info.max


def require_fits(value, scalar):
    """Raise unless the Python int ``value`` fits the integer type ``scalar`` (numpy raises
    ``OverflowError`` for ``np.uint32(-1)`` and for storing it into a uint32 array, so the device never
    wraps a literal silently)."""
    if not fits(value, scalar):
        info = np.iinfo(scalar.dtype)
        raise TypeRuleError(f"the literal {value} does not fit in {scalar.name} ({info.min}..{info.max})")


def weak_with(value, other):
    """The type a Python literal ``value`` takes next to a typed operand of type ``other`` (NEP 50); next
    to a bool (in a comparison: arithmetic refuses it), an int or float literal takes its own type."""
    s = scalar_of(other)
    if s is None:
        raise TypeRuleError(f"cannot combine a literal with a {other.name}")
    if isinstance(value, bool):
        return other
    if s.kind == "b":  # (x > 2) * 5: a bool has no width to lend; the literal is what it is on its own
        if isinstance(value, int):
            require_fits(value, i32)
        return with_scalar(other, literal_type(value))
    if isinstance(value, int):
        if s.kind in "iu":
            require_fits(value, s)
        return other
    if s.kind == "f":
        return other
    return with_scalar(other, f64)


def promote(a, b):
    """The common type of two typed operands (numpy's ``result_type``, component-wise for vectors)."""
    sa, sb = scalar_of(a), scalar_of(b)
    if sa is None or sb is None:
        raise TypeRuleError(f"cannot combine {a.name} and {b.name}")
    scalar = scalar_of_dtype(np.result_type(sa.dtype, sb.dtype))
    if scalar is None:
        raise TypeRuleError(f"{a.name} and {b.name} have no common type on the device; cast one of them")
    shape_a = a if not isinstance(a, ScalarType) else None
    shape_b = b if not isinstance(b, ScalarType) else None
    if shape_a is not None and shape_b is not None:
        if isinstance(shape_a, MatrixType) or isinstance(shape_b, MatrixType):
            raise TypeRuleError(f"cannot combine {a.name} and {b.name} here; matrices take @, + - * / and "
                                "transpose/determinant/inverse")
        if shape_a.n != shape_b.n:
            raise TypeRuleError(f"cannot combine {a.name} and {b.name}: the widths differ")
    shape = shape_a or shape_b
    return with_scalar(shape, scalar) if shape is not None else scalar


def true_division(t):
    """``/``: integer (and bool) operands give f64, as in numpy."""
    s = scalar_of(t)
    return t if s.kind == "f" else with_scalar(t, f64)


def can_assign(value_type, var_type, weak_value=None):
    """Whether a value may be assigned to a local that already has ``var_type`` (numpy's safe casting;
    a literal may go anywhere its value fits)."""
    if value_type == var_type:
        return True
    if weak_value is not None:
        try:
            return weak_with(weak_value, var_type) == var_type
        except TypeRuleError:
            return False
    sv, st = scalar_of(value_type), scalar_of(var_type)
    if sv is None or st is None or type(value_type) is not type(var_type):
        return False
    if isinstance(var_type, VectorType) and var_type.n != value_type.n:
        return False
    if isinstance(var_type, MatrixType) and var_type != value_type:
        return False
    return bool(np.can_cast(sv.dtype, st.dtype, "safe"))


def require_target(t, target):
    """Raise when ``t`` needs a 64-bit (or 16-bit) type the target device lacks."""
    s = scalar_of(t)
    if s is None:
        return
    needs = {("f", 64): "float64", ("i", 64): "int64", ("u", 64): "int64", ("f", 16): "float16"}
    feature = needs.get((s.kind, s.bits))
    if feature and not getattr(target, feature):
        hint = "f32(...)" if s.kind == "f" else "i32(...) or u32(...)"
        raise TypeRuleError(f"this needs {s.name}, which the device does not support; numpy's type rules "
                            f"give {s.name} for these operands, so cast one explicitly with {hint}")
