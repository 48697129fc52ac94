"""Buffer elements in ``kernel.emulate``: vectors and structs read from a buffer, and component stores.

A kernel reads ``a[i]`` (a ``Buffer[vec4]`` element) or ``ps[i].vel`` (a vector field of a struct
element) as a value: ``v = a[i]; v.w = 1.0`` changes ``v`` only, on the device and here, so such reads
are copies (:class:`ElementVector`, a :class:`~legionella.lang.types.Vector`). A component store
written straight into the element, ``a[i].w = 1.0``, ``a[i].xy += d``, ``a[i][2] = s`` or
``ps[i].vel.y = s``, stores into the buffer on the device; in Python it stores into the copy that
``a[i]`` returned. To agree, the copy also writes the buffer when the store instruction that is running
is one whose target is written on an element expression (:func:`stores_into_element`): which ones that
are is read from the source, where ``a[i].w = ...`` and ``v.w = ...`` differ, since Python's objects do
not.

Struct elements are :class:`StructElement` s over the buffer's memory: scalar fields read as numpy
scalars, vector fields as :class:`ElementVector` s (swizzles and components work as on any vector),
struct fields as nested :class:`StructElement` s, and a field store writes the buffer.
"""
import ast
import dis
import functools
import linecache
import sys
import weakref

import numpy as np

from ..lang.types import StructType, Vector, VectorType

_STORE_INSTRUCTIONS = frozenset({"STORE_ATTR", "STORE_SUBSCR"})
_VECTOR_SLOTS = frozenset(Vector.__slots__)
_element_store_offsets = weakref.WeakKeyDictionary()  # code object -> offsets of its element stores


def stores_into_element(frame):
    """Whether the store instruction that ``frame`` is executing writes a component (``.x``, ``.xy``,
    ``[k]``) of an element expression (``a[i]``, ``ps[i].vel``) rather than of a name (``v.x``).

    Matched by the end of the store's target in the source (CPython gives a multi-line target the
    position of its last part, so the start would not do), once per code object."""
    code = frame.f_code
    offsets = _element_store_offsets.get(code)
    if offsets is None:
        ends = _element_store_ends(code.co_filename, "".join(linecache.getlines(code.co_filename)))
        offsets = _element_store_offsets[code] = frozenset(
            instruction.offset for instruction in dis.get_instructions(code)
            if instruction.opname in _STORE_INSTRUCTIONS
            and (instruction.positions.end_lineno, instruction.positions.end_col_offset) in ends)
    return frame.f_lasti in offsets


@functools.lru_cache(maxsize=64)
def _element_store_ends(filename, text):
    """``{(end line, end column)}`` of every assignment target in the file ``text`` that is a component of
    an element expression: ``X.attr`` or ``X[k]`` where ``X`` is itself a subscript or an attribute."""
    if not text:
        raise RuntimeError(f"kernel.emulate cannot read {filename}, which it needs to tell a store into a buffer "
                           "element (a[i].x = s) from a store into a local (v.x = s); run kernels from a file")
    ends = set()
    for node in ast.walk(ast.parse(text, filename)):
        for target in _targets(node):
            if isinstance(target, (ast.Attribute, ast.Subscript)) and isinstance(target.value, (
                    ast.Attribute, ast.Subscript)):
                ends.add((target.end_lineno, target.end_col_offset))
    return frozenset(ends)


def _targets(node):
    """The assignment targets of a statement, tuple targets unpacked."""
    if isinstance(node, ast.Assign):
        pending = list(node.targets)
    elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
        pending = [node.target]
    else:
        return []
    targets = []
    while pending:
        target = pending.pop()
        if isinstance(target, (ast.Tuple, ast.List)):
            pending.extend(target.elts)
        else:
            targets.append(target)
    return targets


class ElementVector(Vector):
    """A vector read from a buffer element: a copy, whose component stores also write the element when the
    store is written on the element expression itself (``a[i].w = s``, not ``v = a[i]; v.w = s``).

    ``element`` is a numpy view of the element's components in the buffer."""
    __slots__ = ("_element",)

    def __init__(self, vtype, element):
        super().__init__(vtype, element)
        object.__setattr__(self, "_element", element)

    def __setattr__(self, name, value):
        Vector.__setattr__(self, name, value)
        if name not in _VECTOR_SLOTS and stores_into_element(sys._getframe(1)):
            components = self._swizzle_indices(name)
            self._element[components] = self.data[components]

    def __setitem__(self, k, value):
        Vector.__setitem__(self, k, value)
        if stores_into_element(sys._getframe(1)):
            self._element[k] = self.data[k]


class StructElement:
    """A struct element of a buffer (or a struct field of one), over the buffer's memory: ``s.field``
    reads a field as a kernel does, ``s.field = value`` stores it into the buffer."""
    __slots__ = ("_record", "_fields")

    def __init__(self, record, struct_type):
        object.__setattr__(self, "_record", record)  # a numpy void: a view of the element
        object.__setattr__(self, "_fields", dict(struct_type.fields))

    def __getattr__(self, name):
        field_type = self._field_type(name)
        value = self._record[name]
        if isinstance(field_type, VectorType):
            return ElementVector(field_type, value)
        if isinstance(field_type, StructType):
            return StructElement(value, field_type)
        return value

    def __setattr__(self, name, value):
        self._field_type(name)
        self._record[name] = value.data if isinstance(value, Vector) else value

    def _field_type(self, name):
        if name.startswith("_") or name not in self._fields:
            raise AttributeError(f"a struct element has no field {name!r}; it has {', '.join(self._fields)}")
        return self._fields[name]

    def __repr__(self):
        return f"StructElement({self._record!r})"

