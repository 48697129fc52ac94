"""Binding globals at launch: the arrays of a kernel's ``# legionella: binding`` declarations.

Each :class:`~legionella.compiler.artifact.GlobalBinding` of a compiled kernel takes its array from the
launch keyword of its name (``kernel[grid](x, NAME=array)``), else from the declaration's
``NAME.bind(array)``; a ``Buffer[T]`` global is checked like a buffer parameter (dtype, rank, device)
and its shape packed at its ``shape_offset``; a ``Uniform[T]`` global takes an ``lg.Array`` of one
``T``, or a host value that is uploaded here (once per value bound with ``.bind``).

Parameters keep set 0, bindings 0..n-1 (the launch ABI); globals add their declared (set, binding)
pairs, so the pipeline layout is built from :meth:`GlobalBinders.sets`, and every set up to the highest
one used is bound (an empty set for a number nothing uses).
"""
import numpy as np

from ..errors import DeviceError
from ..lang.binding import declaration, uniform_value
from . import signature
from .array import Array, array as to_device


def _where(kernel_name, g):
    return f"kernel {kernel_name!r}, binding {g.module}.{g.name} ({g.type.name}, set {g.set}, binding {g.binding})"


class GlobalBinders:
    """The globals of one compiled kernel on one device, in layout order (by set, then binding)."""

    def __init__(self, kernel_name, compiled, device):
        self.kernel_name = kernel_name
        self.device = device
        self.globals = sorted(compiled.globals, key=lambda g: (g.set, g.binding))
        self.names = frozenset(g.name for g in self.globals)
        self.binders = [self._uniform_binder(g) if g.type.uniform else
                        signature.buffer_binder(kernel_name, g, device, where=_where(kernel_name, g))
                        for g in self.globals]
        self.writes = tuple(g.writes for g in self.globals)
        self.uploads = {}  # name -> (the host value bound with .bind, its lg.Array)
        limit = device.limits["maxBoundDescriptorSets"]
        if self.globals[-1].set >= limit:
            g = self.globals[-1]
            raise DeviceError(f"{_where(kernel_name, g)}: {device.name} binds at most {limit} descriptor sets "
                              f"(maxBoundDescriptorSets); declare it in a set below {limit}")

    def sets(self, parameter_buffers):
        """The layout's sets (see :class:`~.pipeline.Layout`): parameters first in set 0, then globals."""
        sets = [[(i, False) for i in range(parameter_buffers)]]
        for g in self.globals:
            while len(sets) <= g.set:
                sets.append([])
            sets[g.set].append((g.binding, g.type.uniform))
        return tuple(tuple(entries) for entries in sets)

    def bind(self, named, push):
        """The array of each global, in layout order; ``named`` holds the launch keywords."""
        if named and not self.names.issuperset(named):
            unknown = ", ".join(sorted(set(named) - self.names))
            raise TypeError(f"kernel {self.kernel_name!r} has no binding named {unknown}; it uses "
                            f"{', '.join(sorted(self.names))}")
        arrays = []
        for g, bind in zip(self.globals, self.binders):
            value = named.get(g.name) if named else None
            if value is None:
                value = self._bound(g)
                if g.type.uniform and not isinstance(value, Array):
                    value = self._upload_bound(g, value)
            elif g.type.uniform and not isinstance(value, Array):  # a keyword value: uploaded each launch
                value = to_device(uniform_value(g.type.element, value, _where(self.kernel_name, g)),
                                  device=self.device)
            arrays.append(bind(value, push))
        return arrays

    def _upload_bound(self, g, host):
        """The device copy of the host value bound with ``.bind`` (a private copy: uploaded once)."""
        cached = self.uploads.get(g.name)
        if cached is None or cached[0] is not host:
            cached = self.uploads[g.name] = (host, to_device(host, device=self.device))
        return cached[1]

    def _bound(self, g):
        decl = declaration(g.set, g.binding)
        if decl is None or (decl.module, decl.name) != (g.module, g.name) or not decl.is_bound:
            where = f" (declared at {decl.where})" if decl is not None else ""
            raise TypeError(f"{_where(self.kernel_name, g)}{where}: nothing is bound to it; pass it as a launch "
                            f"keyword, {self.kernel_name}[grid](..., {g.name}=array), or bind it once with "
                            f"{g.module}.{g.name}.bind(array)")
        return decl.bound

    def _uniform_binder(self, g):
        """Check an ``lg.Array`` of one ``T`` (or upload a host value of ``T``) for a ``Uniform[T]``."""
        where = _where(self.kernel_name, g)
        element = g.type.element
        dtype = np.dtype(element.dtype)
        device = self.device
        alignment = device.limits["minUniformBufferOffsetAlignment"]

        def bind(value, push):
            if value.dtype != dtype.base or value.nbytes != dtype.itemsize:
                raise TypeError(f"{where}: got an array of {value.dtype} with shape {value.shape}; pass an "
                                f"lg.Array of one {element.name} ({dtype}) or a {element.name} value")
            if value.device is not device:
                raise TypeError(f"{where}: the array lives on {value.device.name}, the launch runs on {device.name}")
            if value.binding[1] % alignment:
                raise DeviceError(f"{where}: the array's offset is not a multiple of {alignment} "
                                  "(minUniformBufferOffsetAlignment); bind a value and let the runtime upload it")
            return value

        return bind
