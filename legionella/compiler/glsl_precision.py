"""Which float widths the GLSL.std.450 instructions take.

The transcendental instructions (``Sin``, ``Exp``, ``Pow``...) take 16- and 32-bit floats only; an f64
operand is invalid SPIR-V, which drivers run anyway with undefined results. numpy's rules make f64 easy
to reach without meaning to (``i * 0.1``, an int divided by an int), so the compiler refuses such a call
and says where the f64 comes from and what to write instead.
"""
from .typerules import TypeRuleError, scalar_of

FLOAT32_ONLY = frozenset({"Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Tanh", "Asinh", "Acosh",
                          "Atanh", "Atan2", "Exp", "Log", "Exp2", "Log2", "Pow", "Radians", "Degrees"})
PYTHON_NAMES = {"Pow": "'**' (pow)", "Atan2": "atan2", "Radians": "radians", "Degrees": "degrees"}


def require_float32(instruction, t):
    """Raise a :class:`TypeRuleError` when GLSL.std.450 ``instruction`` would get an f64 ``t``.

    >>> from legionella.lang.types import f64
    >>> require_float32("Sin", f64)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    legionella.compiler.typerules.TypeRuleError: sin of an f64 value: GPUs have no f64 sin ...
    """
    scalar = scalar_of(t)
    if instruction in FLOAT32_ONLY and scalar is not None and scalar.kind == "f" and scalar.bits == 64:
        name = PYTHON_NAMES.get(instruction, instruction.lower())
        raise TypeRuleError(
            f"{name} of an f64 value: GPUs have no f64 {name} (GLSL.std.450 {instruction} takes 16- and "
            f"32-bit floats); compute it in f32 by converting its operands with f32(...). Under numpy's rules "
            "an int times a float literal (i * 0.1) and an int divided by an int are f64: write f32(i) * 0.1 there")
