"""``kernel[grid](*args)``: compile once per (kernel, device), check and pack the arguments, enqueue.

The per-(kernel, device) work (compiling or loading the kernel, building binders, the pipeline and its
layout) happens in :class:`Launcher`, once; a launch only runs the binders, picks a cached descriptor
set and records the dispatch.

A launch repeating the last one's arguments (the same arrays, the same scalars) and grid reuses what the
last one worked out (:class:`Repeat`): it is the common case in a loop, and it skips the binders.

Two variants of a kernel are compiled on first need, each with its own Launcher: the *aliased* one, for
a launch that binds one array to several buffer parameters and writes it through one of them (the
default variant lets the driver assume distinct parameters never share memory), and the one-element
one, for arrays at offsets vector loads cannot use.
"""
import collections
import struct
import weakref

import numpy as np

from .. import compiler
from ..errors import DeviceError
from ..kernel import normalize_grid
from . import _vk, cache, counters
from .array import Array
from .bindings import GlobalBinders
from .vkdevice import device as current_device

HEADER = struct.Struct("<3I4x3I4x")  # group_offset: uvec3 @0, num_groups: uvec3 @16 (artifact.py's ABI)
MAX_PLANS = 256  # grids remembered per launcher
KEPT_SCALARS = (int, float, bool)  # scalar argument types a Repeat may keep (immutable)
WeakRef = weakref.ref


def split_groups(groups, max_groups):
    """Cover ``groups`` workgroups with dispatches of at most ``max_groups`` per dimension.

    Yields ``(group_offset, count)`` pairs, both 3-tuples.

    >>> list(split_groups((70000, 1, 1), (65535, 65535, 65535)))
    [((0, 0, 0), (65535, 1, 1)), ((65535, 0, 0), (4465, 1, 1))]
    """
    gx, gy, gz = groups
    mx, my, mz = max_groups
    for oz in range(0, gz, mz):
        for oy in range(0, gy, my):
            for ox in range(0, gx, mx):
                yield (ox, oy, oz), (min(mx, gx - ox), min(my, gy - oy), min(mz, gz - oz))


class Repeat:
    """What a launch worked out from its arguments, kept for the next launch with the same ones.

    ``kept`` holds, per argument, a weak reference to an array (an array's shape, dtype and memory never
    change) or the scalar itself: an ``int`` matches an equal ``int``; a float or numpy scalar matches
    only the same object, since equal floats can differ in their bits (``0.0`` and ``-0.0``). Arguments of
    other types (a list for a vector may change in place) make a launch that is not kept."""
    __slots__ = ("grid", "kept", "chunks", "bindings", "writes", "arrays")

    def __init__(self, grid, kept, chunks, bindings, writes, arrays):
        self.grid, self.kept, self.chunks = grid, kept, chunks
        self.bindings, self.writes = bindings, writes
        self.arrays = arrays  # positions of the array arguments, whose serial each launch updates


def kept_arguments(args):
    """``Repeat.kept`` for ``args``, or None when one of them cannot be kept."""
    kept = []
    for arg in args:
        if type(arg) is Array:
            kept.append(weakref.ref(arg))
        elif type(arg) in KEPT_SCALARS or isinstance(arg, (np.number, np.bool_)):
            kept.append(arg)
        else:
            return None
    return tuple(kept)


def compiled_kernel(kernel, device, vectorize=True, aliased=False):
    """The :class:`CompiledKernel` for ``device`` (the variant ``compile_kernel``'s flags name), from the
    disk cache when there, else compiled and stored."""
    key = cache.kernel_key(kernel.id, compiler.dependency_hash(kernel), device.disk_key, device.target,
                           variant=(vectorize, aliased))
    compiled = cache.load_kernel(key)
    if compiled is None:
        compiled = compiler.compile_kernel(kernel, device.target, vectorize=vectorize, aliased=aliased)
        counters.bump("codegen")
        cache.store_kernel(key, compiled)
    return compiled


class Launcher:
    """Everything needed to launch one kernel on one device, prepared once."""

    def __init__(self, kernel, device, compiled=None, aliased=False):
        from . import signature
        self.device = device
        self.kernel = kernel
        self.name = kernel.__name__
        self.aliased = aliased  # compiled for arrays bound to several parameters (compile_kernel(aliased=))
        self.compiled = compiled or compiled_kernel(kernel, device)
        self.elements = self.compiled.elements_per_invocation
        # Vector views need every buffer at a multiple of their element size (4 bytes per element). The
        # allocator carves arrays at multiples of its own alignment (at least 16): when that suffices, no
        # launch needs to look (0); else each launch checks, and the one-element variant takes the rest.
        needed = 4 * self.elements if self.elements > 1 else 0
        self.alignment = needed if needed and device.array_memory.alignment % needed else 0
        self.fallback = None  # the one-element Launcher, made on first need
        self.aliased_variant = None  # the aliased Launcher, made on first need
        # `# legionella: binding` globals (None for the common kernel without: its launch path stays as it was)
        self.globals = GlobalBinders(self.name, self.compiled, device) if self.compiled.globals else None
        self.binders = signature.binders(self.name, self.compiled, device)
        self.nparams = len(self.binders)
        self.param_names = ", ".join(p.name for p in self.compiled.params)
        self.workgroup = self.compiled.workgroup
        self.push_size = self.compiled.push_constant_size
        if self.push_size < HEADER.size:
            raise DeviceError(f"kernel {self.name!r}: {self.push_size} bytes of push constants, fewer than the "
                              f"launch ABI's {HEADER.size}-byte header; this is a compiler bug")
        buffers = [p for p in self.compiled.params if p.kind == "buffer"]
        self.buffer_writes = tuple(p.writes for p in buffers) + (self.globals.writes if self.globals else ())
        self.written_buffers = tuple(k for k, writes in enumerate(self.buffer_writes) if writes)
        self.writes_all = len(self.written_buffers) == len(self.buffer_writes)
        # Only a kernel with two buffers, one written, can see a store through one parameter and a load
        # through another of the same memory; the aliased variant itself needs no further check.
        self.check_aliasing = not aliased and len(self.buffer_writes) > 1 and any(self.buffer_writes)
        if [p.binding for p in buffers] != list(range(len(buffers))):
            raise DeviceError(f"kernel {self.name!r}: buffer bindings {[p.binding for p in buffers]} do not "
                              "follow the launch ABI (0..n-1 in parameter order); this is a compiler bug")
        sets = self.globals.sets(len(buffers)) if self.globals else len(buffers)
        self.pipeline, self.layout = device.pipeline(self.compiled.spirv, self.compiled.entry_point, sets,
                                                     self.push_size)
        limit = device.limits["maxPushConstantsSize"]
        if self.push_size > limit:
            raise DeviceError(f"kernel {self.name!r} needs {self.push_size} bytes of push constants (scalars and "
                              f"shapes); {device.name} allows {limit}: pass fewer scalars or buffers")
        self.max_groups = device.limits["maxComputeWorkGroupCount"]
        self.plans = {}  # grid -> plan()
        self.repeat = None  # the last launch's Repeat

    def plan(self, grid):
        """``(push constants, count)`` per dispatch for ``grid`` invocations (cached: grids repeat); the push
        constants are the dispatch's header, then zeros for the arguments.

        A kernel handling ``E`` elements per invocation gets ``ceil(groups_x / E)`` workgroups along x; the
        header keeps the one-element count (``num_groups``, from which the kernel knows where to stop)."""
        plan = self.plans.get(grid)
        if plan is None:
            groups = tuple(-(-n // w) for n, w in zip(grid, self.workgroup))
            dispatched = (-(-groups[0] // self.elements), *groups[1:])
            padding = bytes(self.push_size - HEADER.size)
            plan = [] if 0 in groups else [(HEADER.pack(*offset, *groups) + padding, count)
                                           for offset, count in split_groups(dispatched, self.max_groups)]
            if len(self.plans) < MAX_PLANS:
                self.plans[grid] = plan
        return plan

    def launch(self, grid, args, named=None):
        """Check ``args`` (and ``named``, the launch keywords binding globals), then record the dispatch(es)
        covering ``grid`` invocations."""
        repeat = self.repeat
        if repeat is not None and repeat.grid == grid and len(args) == len(repeat.kept) and not named:
            for arg, kept in zip(args, repeat.kept):
                if kept is not arg and not (type(kept) is WeakRef and kept() is arg
                                            or type(kept) is int and type(arg) is int and kept == arg):
                    break
            else:
                return self.record(repeat.chunks, repeat.bindings, repeat.writes, [args[k] for k in repeat.arrays])
        self.launch_checked(grid, args, named)

    def launch_checked(self, grid, args, named):
        """:meth:`launch` through the binders, which check every argument and pack it."""
        if len(args) != self.nparams:
            args = self.with_defaults(args)
        plan = self.plans.get(grid) or self.plan(grid)
        # Push constants start as the first dispatch's (most launches have one); the binders write each
        # scalar and shape at its offset.
        push = bytearray(plan[0][0] if plan else self.push_size)
        arrays = []
        for bind, arg in zip(self.binders, args):
            array = bind(arg, push)
            if array is not None:
                arrays.append(array)
        if self.globals is not None:
            arrays += self.globals.bind(named, push)
        # Arrays are distinct objects with distinct memory (no views), so fewer distinct arrays than
        # buffers means one is passed twice: a set of a few objects costs 0.1-0.2 us (measured on lavapipe).
        if self.check_aliasing and len(set(arrays)) < len(arrays) and self.written_twice(arrays):
            return self.aliased_launcher().launch(grid, args, named)
        if self.alignment and any(a.binding[1] % self.alignment for a in arrays):
            return self.one_element_launcher().launch(grid, args, named)
        if not plan:
            return
        chunks = ((bytes(push), plan[0][1]),) if len(plan) == 1 else self.chunks(plan, push)
        bindings = tuple([a.binding for a in arrays])
        writes = bindings if self.writes_all else tuple([bindings[k] for k in self.written_buffers])
        self.record(chunks, bindings, writes, arrays)
        kept = None if self.globals is not None else kept_arguments(args)
        self.repeat = None if kept is None else Repeat(grid, kept, chunks, bindings, writes,
                                                       tuple(k for k, arg in enumerate(args) if type(arg) is Array))

    def record(self, chunks, bindings, writes, arrays):
        """Record the dispatches into the device's stream; ``arrays`` remember it as their last use."""
        device = self.device
        if device.lost is not None:
            device.check_alive()
        if device.lock._is_owned():  # device.refuse_reentry(), inlined: this is the launch hot path
            device.refuse_reentry()
        with device.lock:
            p_set = self.layout.descriptor_set(bindings)
            serial = device.stream.dispatch(self.pipeline, self.layout.handle, p_set, chunks, bindings, writes)
            for a in arrays:
                a.serial = serial

    def with_defaults(self, args):
        """``args`` completed with the Python defaults of the parameters they leave out, as a call would
        (``def k(a: Buffer[f32], scale: f32 = 1.0)`` launched as ``k[n](a)``)."""
        defaults = self.defaults
        missing = self.nparams - len(args)
        if 0 < missing <= len(defaults):
            return tuple(args) + tuple(defaults.values())[len(defaults) - missing:]
        least = self.nparams - len(defaults)
        count = f"{least} to {self.nparams}" if defaults else str(self.nparams)
        raise TypeError(f"kernel {self.name!r} takes {count} arguments ({self.param_names}), got {len(args)}")

    @property
    def defaults(self):
        """``{name: default}`` of the kernel's parameters with a default value, in signature order."""
        values = self.kernel.py_func.__defaults__ or ()
        names = [p.name for p in self.compiled.params][self.nparams - len(values):]
        return dict(zip(names, values))

    @staticmethod
    def chunks(plan, push):
        """The ``(push constants, count)`` of each dispatch of ``plan``, each with its own header."""
        out = []
        for template, count in plan:
            push[:HEADER.size] = template[:HEADER.size]
            out.append((bytes(push), count))
        return tuple(out)

    def written_twice(self, arrays):
        """Whether an array bound to several buffer parameters is written through one of them."""
        bound = collections.Counter(arrays)
        return any(writes and bound[array] > 1 for array, writes in zip(arrays, self.buffer_writes))

    def one_element_launcher(self):
        """The launcher of this kernel compiled with one element per invocation: for arguments bound at
        offsets the vector views cannot use (compiled, or loaded from the disk cache, on first need)."""
        if self.fallback is None:
            compiled = compiled_kernel(self.kernel, self.device, vectorize=False, aliased=self.aliased)
            self.fallback = Launcher(self.kernel, self.device, compiled=compiled, aliased=self.aliased)
        return self.fallback

    def aliased_launcher(self):
        """The launcher of this kernel compiled with every buffer decorated ``Aliased``: for launches that
        pass one array for several parameters and write it (compiled, or loaded from the disk cache, on first
        need)."""
        if self.aliased_variant is None:
            compiled = compiled_kernel(self.kernel, self.device, aliased=True)
            self.aliased_variant = Launcher(self.kernel, self.device, compiled=compiled, aliased=True)
        return self.aliased_variant


class Launch:
    """What ``kernel[grid]`` returns; calling it enqueues the kernel on the current device.

    Parameters may be passed by keyword too, as in a Python call; the other launch keywords bind the
    kernel's ``# legionella: binding`` globals (see :mod:`.bindings`).

    >>> saxpy[x.size](2.0, x, y)     # doctest: +SKIP
    >>> saxpy[x.size](2.0, x=x, y=y)     # doctest: +SKIP
    """
    __slots__ = ("kernel", "grid")

    def __init__(self, kernel, grid):
        self.kernel = kernel
        self.grid = normalize_grid(grid)

    def __call__(self, *args, **named):
        device = current_device()
        # Keyed by the Kernel object: a reloaded module makes new Kernels with the same ids (when only a
        # helper changed), and they must not launch the old code.
        launcher = device.launchers.get(self.kernel)
        if launcher is None:
            with device.lock:
                launcher = device.launchers.get(self.kernel)
                if launcher is None:
                    launcher = device.launchers[self.kernel] = Launcher(self.kernel, device)
        if named:  # the positional launch pays for this test only
            args, named = self.by_position(launcher, args, named)
        launcher.launch(self.grid, args, named)

    @staticmethod
    def by_position(launcher, args, named):
        """``(args, named)`` with the keywords that name parameters moved to their positions in ``args``,
        and only the keywords that name binding globals left in ``named``; a keyword that names neither,
        a parameter given twice or one missing is a ``TypeError`` saying which, as a Python call would."""
        kernel = launcher.name
        params = [p.name for p in launcher.compiled.params]
        bindings = launcher.globals.names if launcher.globals is not None else frozenset()
        unknown = [key for key in named if key not in params and key not in bindings]
        if unknown:
            uses = f"; its bindings: {', '.join(sorted(bindings))}" if bindings else ""
            raise TypeError(f"kernel {kernel!r} has no parameter or binding named {', '.join(unknown)}; its "
                            f"parameters: {launcher.param_names or 'none'}{uses}")
        if len(args) > len(params) or not any(key in named for key in params):
            return args, named  # too many arguments: the launcher says so; or only bindings given
        given = list(args) + [None] * (len(params) - len(args))
        rest = dict(named)
        for position, name in enumerate(params):
            if name in rest:
                if position < len(args):
                    raise TypeError(f"kernel {kernel!r} got parameter {name!r} twice, by position and by keyword")
                given[position] = rest.pop(name)
        defaults = launcher.defaults
        for position, name in enumerate(params[len(args):], start=len(args)):
            if name not in named and name in defaults:
                given[position] = defaults[name]
        missing = [name for name in params[len(args):] if name not in named and name not in defaults]
        if missing:
            raise TypeError(f"kernel {kernel!r} takes {len(params)} arguments ({launcher.param_names}); "
                            f"missing {', '.join(missing)}")
        return tuple(given), rest
