"""``math.*`` in ``kernel.emulate``: the device's IEEE results, not Python's exceptions.

The compiler maps the float functions of ``math`` to GLSL.std.450 instructions, which give ``-inf`` for
``log(0.0)``, ``nan`` for ``sqrt(-1.0)`` and ``inf`` for ``exp(1000.0)``; Python's ``math`` raises
``ValueError`` or ``OverflowError`` there instead. Kernel code in the emulator therefore sees numpy's
ufuncs under the same names (:data:`IEEE_MATH`), computed in the type the device computes in:

* a numpy float keeps its type (``math.sin(f32)`` is an ``f32``), an integer is converted to ``f32`` first
  (as the compiler converts an integer operand of a float function), a :class:`Vector` is computed
  component-wise into a vector of the same width;
* when every argument is a Python number the call is a literal expression, which the compiler folds with
  Python's ``math`` (and refuses where Python raises): Python's ``math`` runs here too.

numpy's floating-point warnings are already silenced for the whole emulation.

>>> import numpy as np
>>> IEEE_MATH[math.log](np.float32(0.0)), IEEE_MATH[math.sqrt](np.int32(4))
(np.float32(-inf), np.float32(2.0))
"""
import math
import types

import numpy as np

from ..lang.types import Vector, VectorType, f32

# math function -> the numpy ufunc computing the GLSL.std.450 instruction the compiler maps it to
# (compiler/calls.py FLOAT_MATH, and fmod's OpFRem).
_UFUNCS = {
    math.sqrt: np.sqrt, math.sin: np.sin, math.cos: np.cos, math.tan: np.tan, math.asin: np.arcsin,
    math.acos: np.arccos, math.atan: np.arctan, math.sinh: np.sinh, math.cosh: np.cosh, math.tanh: np.tanh,
    math.asinh: np.arcsinh, math.acosh: np.arccosh, math.atanh: np.arctanh, math.exp: np.exp,
    math.log: np.log, math.log2: np.log2, math.fabs: np.fabs, math.degrees: np.degrees,
    math.radians: np.radians, math.atan2: np.arctan2, math.pow: np.power, math.fmod: np.fmod,
}
if hasattr(math, "exp2"):
    _UFUNCS[math.exp2] = np.exp2


def _device_operand(value):
    """An argument as the device computes with it: integers (scalars or vectors) become f32."""
    if isinstance(value, Vector):
        return value.data if value.type.scalar.kind == "f" else value.data.astype(np.float32)
    if isinstance(value, np.integer):
        return np.float32(value)
    return value


def _ieee(python_function, ufunc):
    """The emulator's version of ``python_function`` (its name, and its docstring for ``help()``)."""

    def function(*args):
        if all(type(a) in (int, float) for a in args):  # a literal expression: folded in Python
            return python_function(*args)
        result = ufunc(*map(_device_operand, args))
        vector = next((a for a in args if isinstance(a, Vector)), None)
        if vector is not None:
            return Vector(VectorType(f32 if vector.type.scalar.kind != "f" else vector.type.scalar,
                                     vector.type.n), result)
        return result

    function.__name__ = function.__qualname__ = python_function.__name__
    function.__doc__ = python_function.__doc__
    return function


IEEE_MATH = {fn: _ieee(fn, ufunc) for fn, ufunc in _UFUNCS.items()}
"""``{math function: its emulated version}``, for kernel code that imported the function by name."""


class _MathModule(types.ModuleType):
    """The ``math`` module as kernel code sees it in the emulator: the mapped functions replaced by their
    IEEE versions, every other name (``pi``, ``floor``, ``isnan``) the real module's."""

    def __getattr__(self, name):
        value = getattr(math, name)
        return IEEE_MATH.get(value, value) if callable(value) else value


EMULATED_MATH = _MathModule("math", math.__doc__)
