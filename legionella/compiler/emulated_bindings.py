"""``# legionella: binding`` globals in ``kernel.emulate``: what a kernel's ``NAME`` is while it runs.

As on the device, a global takes the launch keyword of its name, else the declaration's
``NAME.bind(...)``, else the launch is a ``TypeError`` naming the declaration. A ``Buffer[T]`` global
becomes a buffer view exactly like a buffer parameter (numpy arrays used in place, ``lg.Array`` copied
back); a ``Uniform[T]`` one becomes the value a kernel reads: for a dataclass a
:class:`~.emulated_elements.StructElement` (``NAME.field``; vector fields are vectors, ``NAME.offset.x``),
a :class:`~legionella.lang.types.Vector` or a numpy scalar otherwise.
"""
import sys
import types

import numpy as np

from ..lang.binding import BindingDecl, uniform_value
from ..lang.types import StructType, Vector, VectorType
from .emulated_elements import StructElement
from .resolve import _referenced_names, closure, resolve_attribute


def used_bindings(kernel):
    """``{name: BindingDecl}`` for every declaration the kernel or its helpers read."""
    found = {}
    for src in closure(kernel)[0]:
        for name, attr in _referenced_names(src):
            try:
                obj = src.lookup(name)
                if attr is not None and isinstance(obj, types.ModuleType):
                    obj = resolve_attribute(obj, attr)
            except KeyError:
                continue
            if isinstance(obj, BindingDecl):
                found[obj.name] = obj
    return found


def split_keywords(kernel, kwargs):
    """``(decls, named, rest)``: the kernel's declarations, the keywords naming them, the other keywords."""
    decls = used_bindings(kernel)
    named = {k: v for k, v in kwargs.items() if k in decls}
    return decls, named, {k: v for k, v in kwargs.items() if k not in decls}


def views(kernel, decls, named, buffer_argument, bound):
    """``{BindingDecl: what the kernel sees}``; ``buffer_argument`` is the emulator's parameter converter."""
    out = {}
    for name, decl in decls.items():
        where = (f"kernel {kernel.__name__!r}, binding {decl.module}.{name} ({decl.type.name}, set {decl.set}, "
                 f"binding {decl.binding})")
        value = named.get(name)
        if value is None and decl.is_bound:
            value = decl.bound
        if value is None:
            raise TypeError(f"{where} (declared at {decl.where}): nothing is bound to it; pass it as a launch "
                            f"keyword, {kernel.__name__}.emulate[grid](..., {name}=array), or bind it once with "
                            f"{decl.module}.{name}.bind(array)")
        if decl.type.uniform:
            out[decl] = _uniform_view(decl.type.element, value, where)
        else:
            out[decl] = buffer_argument(name, where, decl.type, value, bound)
    return out


def _uniform_view(element, value, where):
    runtime = sys.modules.get("legionella.runtime")
    if runtime is not None and isinstance(value, runtime.Array):
        value = value.numpy()
        dtype = np.dtype(element.dtype)
        if value.dtype != dtype.base or value.nbytes != dtype.itemsize:
            raise TypeError(f"{where}: got an array of {value.dtype} with shape {value.shape}; pass an lg.Array "
                            f"of one {element.name} ({dtype}) or a {element.name} value")
    host = uniform_value(element, value, where)
    if isinstance(element, StructType):
        return StructElement(host[0], element)
    if isinstance(element, VectorType):
        return Vector(element, host[0])
    return host[0]
