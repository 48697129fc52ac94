"""Types of the kernel language.

Each type is an immutable, hashable object, so the compiler can use them as keys. Scalar and vector
types are also callable: in plain Python (and in ``kernel.emulate``) ``f32(x)`` returns a numpy scalar
with the device's semantics (``i32(-2.7) == -2``, integers wrap), ``vec3(1, 2, 3)`` a :class:`Vector` and
``mat2(1, 2, 3, 4)`` a :class:`Matrix`.

>>> i32(-2.7), u32(-1), f32(1) / f32(3)
(np.int32(-2), np.uint32(4294967295), np.float32(0.33333334))
>>> Buffer[f32].ndim, Buffer[vec4, 2].dtype
(1, dtype(('<f4', (4,))))
"""
import dataclasses
import math
import numbers
import typing

import numpy as np


@dataclasses.dataclass(frozen=True)
class ScalarType:
    """``f16 f32 f64 i32 u32 i64 u64 bool``; ``kind`` is numpy's letter (f, i, u, b)."""
    name: str
    kind: str
    bits: int

    @property
    def dtype(self):
        return np.dtype(bool) if self.kind == "b" else np.dtype(f"{self.kind}{self.bits // 8}")

    @property
    def size(self):
        return 4 if self.kind == "b" else self.bits // 8

    align = size

    def fits(self, value):
        """Whether the Python int ``value`` is in this integer type's range."""
        bits = self.bits
        low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if self.kind == "i" else (0, (1 << bits) - 1)
        return low <= value <= high

    def launch_value(self, value, where):
        """A launch argument for a parameter of this type, checked, as a Python float or int (bool: 0/1).

        The device launch and ``kernel.emulate`` both check arguments here, so they accept and refuse the
        same values with the same messages; ``where`` names the parameter in them.
        """
        if isinstance(value, (bool, np.bool_)) != (self.kind == "b"):
            raise TypeError(f"{where}: got {value!r} ({type(value).__name__}); pass a {self.name}")
        if self.kind in "iu":
            if not isinstance(value, (numbers.Integral, np.integer)):
                raise TypeError(f"{where}: got {value!r} ({type(value).__name__}); pass an int "
                                f"(convert explicitly, e.g. int(x), if truncation is meant)")
            if not self.fits(int(value)):
                raise ValueError(f"{where}: {value} does not fit in {self.name}")
        elif self.kind == "f" and not isinstance(value, (numbers.Real, np.number)):
            raise TypeError(f"{where}: got {value!r} ({type(value).__name__}); pass a number")
        elif self.kind == "f" and float(np.finfo(self.dtype).max) < abs(float(value)) < math.inf:
            raise ValueError(f"{where}: {value} is beyond {self.name}'s range (largest "
                             f"{float(np.finfo(self.dtype).max):.4g}); pass math.inf, or declare the parameter f64")
        return float(value) if self.kind == "f" else int(value)

    def __call__(self, value):
        """Convert like the device does: floats truncate toward zero into integers, integers wrap."""
        if self.kind == "b":
            return np.bool_(bool(value))
        if self.kind in "iu":
            wrapped = int(value) & ((1 << self.bits) - 1)  # int() truncates toward zero
            if self.kind == "i" and wrapped >> (self.bits - 1):
                wrapped -= 1 << self.bits
            return self.dtype.type(wrapped)
        return self.dtype.type(value)

    def __repr__(self):
        return self.name


f16 = ScalarType("f16", "f", 16)
f32 = ScalarType("f32", "f", 32)
f64 = ScalarType("f64", "f", 64)
i32 = ScalarType("i32", "i", 32)
u32 = ScalarType("u32", "u", 32)
i64 = ScalarType("i64", "i", 64)
u64 = ScalarType("u64", "u", 64)
boolean = ScalarType("bool", "b", 8)
SCALARS = {t.name: t for t in (f16, f32, f64, i32, u32, i64, u64, boolean)}


def scalar_of_dtype(dtype):
    """The scalar type of a numpy dtype, or None: ``scalar_of_dtype(np.float32) is f32``."""
    dtype = np.dtype(dtype)
    for t in SCALARS.values():
        if t.dtype == dtype:
            return t
    return None


_SWIZZLE_SETS = ("xyzw", "rgba")


class Vector:
    """A small vector value in plain Python: components, swizzles and elementwise arithmetic."""
    __slots__ = ("type", "data")

    def __init__(self, vtype, data):
        self.type = vtype
        self.data = np.asarray(data, dtype=vtype.scalar.dtype).reshape(vtype.n).copy()

    def _swizzle_indices(self, name):
        for letters in _SWIZZLE_SETS:
            if all(c in letters[:self.type.n] for c in name):
                return [letters.index(c) for c in name]
        return None

    def __getattr__(self, name):
        idx = self._swizzle_indices(name) if not name.startswith("_") else None
        if not idx or len(idx) > 4:
            raise AttributeError(f"{self.type.name} has no component or swizzle {name!r}")
        if len(idx) == 1:
            return self.data[idx[0]]
        return Vector(VectorType(self.type.scalar, len(idx)), self.data[idx])

    def __setattr__(self, name, value):
        if name in Vector.__slots__:
            object.__setattr__(self, name, value)
            return
        idx = self._swizzle_indices(name)
        if not idx or len(set(idx)) != len(idx):
            raise AttributeError(f"cannot assign {name!r} of a {self.type.name}")
        self.data[idx] = value.data if isinstance(value, Vector) else value

    def __getitem__(self, i):
        return self.data[i]

    def __setitem__(self, i, v):
        self.data[i] = v

    def __len__(self):
        return self.type.n

    def __iter__(self):
        return iter(self.data)

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)

    def __repr__(self):
        return f"{self.type.name}({', '.join(str(c) for c in self.data)})"

    def __eq__(self, other):
        return isinstance(other, Vector) and self.type == other.type and bool((self.data == other.data).all())

    __hash__ = None

    def _binary(self, other, fn, reflected=False):
        other_data = other.data if isinstance(other, Vector) else other
        a, b = (other_data, self.data) if reflected else (self.data, other_data)
        result = fn(a, b)
        scalar = scalar_of_dtype(result.dtype) or self.type.scalar
        return Vector(VectorType(scalar, self.type.n), result)


def _vector_operator(fn, reflected=False):
    return lambda self, other: self._binary(other, fn, reflected)


for _name, _fn in {"add": np.add, "sub": np.subtract, "mul": np.multiply, "truediv": np.true_divide,
                   "floordiv": np.floor_divide, "mod": np.mod, "pow": np.power,
                   "and": np.bitwise_and, "or": np.bitwise_or, "xor": np.bitwise_xor,
                   "lshift": np.left_shift, "rshift": np.right_shift}.items():
    setattr(Vector, f"__{_name}__", _vector_operator(_fn))
    setattr(Vector, f"__r{_name}__", _vector_operator(_fn, reflected=True))
Vector.__neg__ = lambda self: Vector(self.type, -self.data)
Vector.__pos__ = lambda self: self
Vector.__abs__ = lambda self: Vector(self.type, np.abs(self.data))
Vector.__invert__ = lambda self: Vector(self.type, ~self.data)


@dataclasses.dataclass(frozen=True)
class VectorType:
    """``vec2/3/4`` (f32), ``ivec*`` (i32), ``uvec*`` (u32), ``bvec*`` (bool); std430 layout."""
    scalar: ScalarType
    n: int

    def launch_value(self, value, where):
        """A launch argument for a parameter of this type (a :class:`Vector`, or a sequence or array of its
        ``n`` numbers), checked, as an array of the scalar type; the device launch and ``kernel.emulate``
        both check arguments here. ``where`` names the parameter in the ``TypeError``."""
        try:
            data = np.asarray(value)  # Vector converts through __array__
        except (TypeError, ValueError):
            data = None
        if data is None or data.shape != (self.n,) or data.dtype.kind not in "biuf":
            raise TypeError(f"{where}: got {value!r}; pass {self.n} numbers, e.g. {self.name}(...)")
        return data.astype(self.scalar.dtype)

    @property
    def name(self):
        prefix = {"f32": "", "i32": "i", "u32": "u", "bool": "b", "f64": "d", "f16": "h"}.get(self.scalar.name)
        return f"{prefix}vec{self.n}" if prefix is not None else f"vector[{self.scalar.name}, {self.n}]"

    @property
    def dtype(self):
        return np.dtype((self.scalar.dtype, (self.n,)))

    @property
    def size(self):
        return self.scalar.size * self.n

    @property
    def align(self):
        return self.scalar.size * (4 if self.n == 3 else self.n)

    @property
    def padded(self):
        """Whether std430 pads this vector in an array (a vec3 is 12 bytes at a stride of 16), so that no
        host array of shape (..., n) can hold a ``Buffer`` of it."""
        return self.align != self.size

    def __call__(self, *components):
        """``vec3(1, 2, 3)``, ``vec4(v.xyz, 1.0)``, ``vec2(0.5)`` (splat)."""
        flat = []
        for c in components:
            flat.extend(np.asarray(c).reshape(-1).tolist() if isinstance(c, (Vector, np.ndarray)) else [c])
        if len(flat) == 1:
            flat = flat * self.n
        if len(flat) != self.n:
            raise TypeError(f"{self.name}() takes {self.n} components, got {len(flat)}")
        return Vector(self, [self.scalar(c) for c in flat])  # each converted as the device does (ints wrap)

    def __repr__(self):
        return self.name


class Matrix:
    """A small matrix value in plain Python, stored like SPIR-V: ``data[j]`` is column ``j``.

    ``m[j]`` is column ``j`` (a :class:`Vector`), ``@`` is the linear-algebra product (with a vector or a
    matrix), ``*`` with a scalar scales, and ``+ - * /`` between matrices are element-wise, as in numpy.

    >>> m = mat2(1, 2, 3, 4)   # columns (1, 2) and (3, 4)
    >>> m[1], m @ vec2(1, 0)
    (vec2(3.0, 4.0), vec2(1.0, 2.0))
    """
    __slots__ = ("type", "data")

    def __init__(self, mtype, data):
        self.type = mtype
        self.data = np.asarray(data, dtype=mtype.column.scalar.dtype).reshape(mtype.cols, mtype.column.n).copy()

    @property
    def math(self):
        """The matrix as numpy writes it (rows first): ``m.math[r, c]`` is row ``r`` of column ``c``."""
        return self.data.T

    def __getitem__(self, j):
        return Vector(self.type.column, self.data[j])

    def __setitem__(self, j, column):
        self.data[j] = column.data if isinstance(column, Vector) else column

    def __len__(self):
        return self.type.cols

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)

    def __repr__(self):
        return f"{self.type.name}({', '.join(repr(self[j]) for j in range(self.type.cols))})"

    def __eq__(self, other):
        return isinstance(other, Matrix) and self.type == other.type and bool((self.data == other.data).all())

    __hash__ = None
    __array_ufunc__ = None  # numpy must not broadcast over a Matrix: ``v * m`` is an error, as in kernels

    def __matmul__(self, other):
        if isinstance(other, Matrix):
            return Matrix(self.type, (self.math @ other.math).T)
        if isinstance(other, Vector):
            return Vector(self.type.column, self.math @ other.data)
        return NotImplemented

    def __rmatmul__(self, other):
        if isinstance(other, Vector):
            return Vector(VectorType(self.type.column.scalar, self.type.cols), other.data @ self.math)
        return NotImplemented

    def _elementwise(self, other, fn, reflected=False):
        if isinstance(other, Vector):
            return NotImplemented
        other_data = other.data if isinstance(other, Matrix) else other
        a, b = (other_data, self.data) if reflected else (self.data, other_data)
        return Matrix(self.type, fn(a, b))


def _matrix_operator(fn, reflected=False):
    return lambda self, other: self._elementwise(other, fn, reflected)


for _name, _fn in {"add": np.add, "sub": np.subtract, "mul": np.multiply, "truediv": np.true_divide}.items():
    setattr(Matrix, f"__{_name}__", _matrix_operator(_fn))
    setattr(Matrix, f"__r{_name}__", _matrix_operator(_fn, reflected=True))
Matrix.__neg__ = lambda self: Matrix(self.type, -self.data)
Matrix.__pos__ = lambda self: self


@dataclasses.dataclass(frozen=True)
class MatrixType:
    """``mat2/3/4``: square f32 matrices, column-major as in SPIR-V and GLSL.

    std430 lays a matrix out as an array of its columns: ``mat2`` is 16 bytes, ``mat4`` 64, and ``mat3``
    48 (each vec3 column padded to 16 bytes, so its ``dtype`` of 36 bytes is not its memory layout).
    """
    column: VectorType
    cols: int

    @property
    def name(self):
        return f"mat{self.cols}"

    @property
    def dtype(self):
        return np.dtype((self.column.scalar.dtype, (self.cols, self.column.n)))

    @property
    def column_stride(self):
        """Bytes from one column to the next in std430 (16 for mat3's vec3 columns)."""
        return -(-self.column.size // self.column.align) * self.column.align

    @property
    def size(self):
        return self.cols * self.column_stride

    @property
    def align(self):
        return self.column.align

    @property
    def padded(self):
        """Whether std430 pads the columns (mat3), so a host array of shape (..., n, n) cannot hold it."""
        return self.column_stride != self.column.size

    def __call__(self, *parts):
        """``mat3(c0, c1, c2)`` from columns, ``mat3(x00, x01, ..., x22)`` from n*n scalars in column-major
        order (first column first), ``mat3(s)`` with ``s`` on the diagonal."""
        n, rows = self.cols, self.column.n
        if len(parts) == 1 and not isinstance(parts[0], (Vector, np.ndarray)):
            return Matrix(self, np.eye(n, rows) * parts[0])
        if len(parts) == n and all(isinstance(p, Vector) and p.type.n == rows for p in parts):
            return Matrix(self, [p.data for p in parts])
        if len(parts) == n * rows and not any(isinstance(p, (Vector, np.ndarray)) for p in parts):
            return Matrix(self, parts)
        raise TypeError(f"{self.name}() takes {n} vec{rows} columns, {n * rows} numbers or one number")

    def __repr__(self):
        return self.name


vec2, vec3, vec4 = (VectorType(f32, n) for n in (2, 3, 4))
ivec2, ivec3, ivec4 = (VectorType(i32, n) for n in (2, 3, 4))
uvec2, uvec3, uvec4 = (VectorType(u32, n) for n in (2, 3, 4))
bvec2, bvec3, bvec4 = (VectorType(boolean, n) for n in (2, 3, 4))
mat2, mat3, mat4 = (MatrixType(VectorType(f32, n), n) for n in (2, 3, 4))
VECTORS = {t.name: t for t in (vec2, vec3, vec4, ivec2, ivec3, ivec4, uvec2, uvec3, uvec4, bvec2, bvec3, bvec4)}
MATRICES = {t.name: t for t in (mat2, mat3, mat4)}


@dataclasses.dataclass(frozen=True)
class StructType:
    """A ``@dataclass`` of lang types used as a buffer element, laid out by std430 rules."""
    cls: type
    fields: tuple  # ((name, type), ...)

    @property
    def name(self):
        return self.cls.__name__

    @property
    def offsets(self):
        offsets, pos = [], 0
        for _, t in self.fields:
            pos = -(-pos // t.align) * t.align
            offsets.append(pos)
            pos += t.size
        return tuple(offsets)

    @property
    def align(self):
        return max(t.align for _, t in self.fields)

    @property
    def size(self):
        last = self.offsets[-1] + self.fields[-1][1].size
        return -(-last // self.align) * self.align

    @property
    def dtype(self):
        return np.dtype({"names": [n for n, _ in self.fields], "formats": [t.dtype for _, t in self.fields],
                         "offsets": list(self.offsets), "itemsize": self.size})

    def __repr__(self):
        return self.name


def struct_type(cls):
    """The :class:`StructType` of a dataclass whose fields are annotated with lang types."""
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls.__name__} is not a @dataclass; buffer elements must be lang types or dataclasses")
    hints = typing.get_type_hints(cls)
    fields = []
    for f in dataclasses.fields(cls):
        t = as_lang_type(hints[f.name])
        if t is None or isinstance(t, (BufferType, MatrixType)):
            raise TypeError(f"field {cls.__name__}.{f.name} has type {hints[f.name]!r}; "
                            "struct fields must be scalars, vectors or structs")
        fields.append((f.name, t))
    if not fields:
        raise TypeError(f"struct {cls.__name__} has no fields")
    return StructType(cls, tuple(fields))


def as_lang_type(t):
    """Map an annotation (a lang type, a dataclass, or Python's float/int/bool) to a lang type, or None."""
    if isinstance(t, (ScalarType, VectorType, MatrixType, StructType, BufferType)):
        return t
    if t is float:
        return f32
    if t is int:
        return i32
    if t is bool:
        return boolean
    if isinstance(t, type) and dataclasses.is_dataclass(t):
        return struct_type(t)
    return None


@dataclasses.dataclass(frozen=True)
class BufferType:
    """``Buffer[T]`` (1-D) or ``Buffer[T, n]`` (n-D, n <= 3): a storage buffer; ``uniform`` for ``Uniform[T]``."""
    element: object
    ndim: int = 1
    uniform: bool = False

    @property
    def dtype(self):
        return self.element.dtype

    def host_layout(self):
        """``(dtype, trailing)``: a host array holds this buffer's elements when its dtype is ``dtype`` and
        its shape ends with the tuple ``trailing`` (``Buffer[vec4]`` takes float32 arrays of shape
        ``(..., 4)``: any vector whose std430 size is its width; ``Buffer[mat4]`` takes ``(..., 4, 4)``, whose
        ``[j]`` is column ``j``); ``trailing`` is ``()`` for other elements, None when no array fits (vec3,
        mat3: std430 pads them; the compiler and ``kernel.emulate`` refuse such buffers). The device launch and ``kernel.emulate`` both accept arrays by this rule."""
        element = self.element
        if isinstance(element, VectorType):
            tight = element.size == element.n * element.scalar.size and element.align == element.size
            return (element.scalar.dtype, (element.n,)) if tight else (element.dtype, None)
        if isinstance(element, MatrixType):
            shape = (element.cols, element.column.n)
            return (element.column.scalar.dtype, shape) if not element.padded else (element.dtype, None)
        return element.dtype, ()

    def element_shape(self, dtype, shape):
        """The shape of a host array of ``dtype`` and ``shape`` seen as an array of this buffer's elements
        (the trailing component axes dropped), or None when such an array cannot hold them."""
        want, trailing = self.host_layout()
        split = len(shape) - len(trailing or ())
        if trailing is None or dtype != want or split < 0 or tuple(shape[split:]) != trailing:
            return None
        return tuple(shape[:split])

    @property
    def name(self):
        kind = "Uniform" if self.uniform else "Buffer"
        return f"{kind}[{self.element.name}]" if self.ndim == 1 else f"{kind}[{self.element.name}, {self.ndim}]"

    def __repr__(self):
        return self.name


def padded_vector_problem(element):
    """Why ``Buffer[element]`` cannot be a kernel's buffer, for a vector that std430 pads, else None.

    >>> padded_vector_problem(vec4) is None
    True
    >>> padded_vector_problem(vec3)[:60]
    'Buffer[vec3] is not supported: std430 gives each vec3 elemen'
    """
    if not isinstance(element, VectorType) or not element.padded:
        return None
    scalar = element.scalar.dtype.name
    return (f"Buffer[{element.name}] is not supported: std430 gives each {element.name} element {element.align} "
            f"bytes ({element.size} of data, then padding), so no {scalar} array of shape (..., {element.n}) "
            f"matches it; use Buffer[{element.name[:-1]}4] (read a[i].xyz, store a[i] = "
            f"{element.name[:-1]}4(v, 0)) or a @dataclass struct with the {element.name} as a field")


class _BufferFactory:
    uniform = False

    def __class_getitem__(cls, params):
        element, ndim = (params if isinstance(params, tuple) else (params, 1))
        lang = as_lang_type(element)
        if lang is None or isinstance(lang, BufferType):
            raise TypeError(f"{cls.__name__}[{element!r}]: the element must be a scalar, vector, matrix or "
                            "dataclass of lang types")
        if ndim not in (1, 2, 3) or (cls.uniform and ndim != 1):
            raise TypeError(f"{cls.__name__}[T, {ndim!r}]: the rank must be 1, 2 or 3")
        return BufferType(lang, ndim, cls.uniform)


class Buffer(_BufferFactory):
    """``Buffer[f32]``, ``Buffer[vec4]``, ``Buffer[f32, 2]``: annotation for a device array parameter."""


class Uniform(_BufferFactory):
    """``Uniform[Params]``: a uniform buffer holding one value (for ``# legionella: binding`` declarations)."""
    uniform = True
