"""Typing of workgroup memory, barriers, atomics and subgroup operations (the frontend's side).

* ``tile = shared(f32, (16, 16))`` at a kernel's top level binds ``tile`` to a :class:`SharedRef`: a
  :class:`~.ir.BufferRef` whose shape is known at compile time, so indexing, ``.shape``, ``len()`` and
  passing it to helpers work exactly as for n-D buffers. The lowering gives it a Workgroup variable.
* ``barrier()`` is ``Expr("barrier")``; :mod:`.uniformity` refuses one under an id-dependent condition.
* ``atomic_OP(buf, index, value)`` is ``Expr("atomic", element type, (index, value), attr=(buf, OP))``
  (``compare_exchange``: ``(index, compare, value)``), on buffer elements and shared arrays.
* ``subgroup_OP(...)`` is ``Expr("subgroup", type, args, attr=OP)``.

Features the device may lack (64-bit or float atomics, subgroup operations) are CompileErrors naming
the device and the feature. The handlers are registered in :data:`.calls._HANDLERS` by identity.
"""
import ast
import dataclasses
import math

from ..lang import intrinsics as lang
from ..lang.types import BufferType, ScalarType, VectorType, as_lang_type, boolean, f32, i32, u32, uvec4
from . import values as V
from .ir import BufferRef, Expr
from .typerules import require_target

MAX_SHARED_RANK = 3


@dataclasses.dataclass(frozen=True)
class SharedType(BufferType):
    """The type of a ``shared(dtype, shape)`` array: an n-D buffer type whose ``shape`` is static."""
    shape: tuple = ()

    @property
    def name(self):
        dims = self.shape[0] if len(self.shape) == 1 else self.shape
        return f"shared({self.element.name}, {dims})"

    @property
    def size(self):
        """Bytes of workgroup memory (elements are tightly packed by their own size)."""
        return math.prod(self.shape) * self.element.size


@dataclasses.dataclass(frozen=True, eq=False)
class SharedRef(BufferRef):
    """A shared array of the kernel (no binding, no push-constant shape)."""

    def __repr__(self):
        return self.name


# ---- shared(): declarations --------------------------------------------------------------------
def is_shared_declaration(fc, node):
    """Whether assignment ``node`` is ``name = shared(...)`` (wherever it stands)."""
    value = node.value
    return isinstance(value, ast.Call) and _resolves_to(fc, value.func, lang.shared)


def _resolves_to(fc, func_node, obj):
    if not isinstance(func_node, (ast.Name, ast.Attribute)):
        return False
    try:
        return fc.static(func_node) is obj
    except Exception:  # an unresolvable name is reported where it is compiled, not here
        return False


def declare_shared(fc, node):
    """``name = shared(dtype, shape)`` at the kernel's top level: bind ``name`` to a new SharedRef."""
    from .frontend import Static
    call = node.value
    if not (fc.function.is_kernel and node in fc.src.tree.body):
        raise _misplaced(fc, call)
    target = node.targets[0]
    if not isinstance(target, ast.Name):
        raise fc.error(target, "assign shared(...) to a plain name: tile = shared(f32, 256)")
    if target.id in fc.scope:
        raise fc.error(target, f"'{target.id}' is already defined; give the shared array a new name")
    t = _shared_type(fc, call)
    total = sum(ref.type.size for ref in fc.ctx.shared) + t.size
    limit = fc.ctx.target.max_shared_memory
    if total > limit:
        raise fc.error(call, f"the kernel declares {total} bytes of shared memory, more than the {limit} bytes "
                             f"the device ({fc.ctx.target.device_name}) allows per workgroup; use smaller tiles")
    ref = SharedRef(target.id, t, -1, -1, -1)
    fc.ctx.shared.append(ref)
    fc.scope[target.id] = Static(ref)


def _misplaced(fc, node):
    where = "a helper" if not fc.function.is_kernel else "a nested statement or expression"
    return fc.error(node, f"shared() can only be assigned to a name at the top level of a kernel, not in {where}; "
                          f"declare it at the start of the kernel (tile = shared(f32, 256)) and pass it to "
                          "helpers as an argument")


def shared_misplaced(fc, obj, node):
    """shared() anywhere but ``name = shared(...)`` at a kernel's top level."""
    raise _misplaced(fc, node)


def _shared_type(fc, call):
    if len(call.args) != 2 or call.keywords:
        raise fc.error(call, "shared() takes two arguments: the element type and the shape, like "
                             "shared(f32, 256) or shared(f32, (16, 16))")
    dtype_node, shape_node = call.args
    element = as_lang_type(fc.static(dtype_node))
    scalar = element.scalar if isinstance(element, VectorType) else element
    if not isinstance(scalar, ScalarType) or scalar.kind == "b":
        raise fc.error(dtype_node, "the element type of shared() must be a numeric scalar or vector type "
                                   "(f32, i32, u32, vec4 ...; use u32 for flags)")
    fc.checked(dtype_node, require_target, element, fc.ctx.target)
    dims = _shape_dims(fc, shape_node)
    if not 1 <= len(dims) <= MAX_SHARED_RANK:
        raise fc.error(shape_node, "a shared array has 1 to 3 dimensions")
    shape = []
    for d, value in dims:
        known = isinstance(value, Expr) and value.op in ("literal", "const")
        if not known or not isinstance(value.attr, int) or isinstance(value.attr, bool) or value.attr <= 0:
            raise fc.error(d, "the shape of shared() must be positive integers known at compile time "
                              "(literals or module constants)")
        shape.append(value.attr)
    return SharedType(element, len(shape), shape=tuple(shape))


def _shape_dims(fc, shape_node):
    """The dimensions of a shape as ``(AST node to blame, compiled value)``: a tuple written out
    (``(16, R)``), a module-level tuple constant (``TILE = (4, 8)``), or one integer (``256``, ``N``)."""
    from .frontend import Static
    if isinstance(shape_node, ast.Tuple):
        return [(d, fc.value(d)) for d in shape_node.elts]
    named = fc.visit(shape_node)
    if isinstance(named, Static) and isinstance(named.obj, tuple):
        return [(shape_node, fc.from_python(v, shape_node)) for v in named.obj]
    return [(shape_node, fc.value(shape_node))]


# ---- barrier() ---------------------------------------------------------------------------------
def barrier(fc, obj, node):
    """``barrier()``: a workgroup execution and memory barrier; refused under an id-dependent condition."""
    if node.args:
        raise fc.error(node, "barrier() takes no arguments")
    from .uniformity import check_barrier
    check_barrier(fc, node)
    return Expr("barrier", None, loc=fc.loc(node))


def check_helper_barriers(fc, node, function):
    """A call of helper ``function`` that reaches a barrier() must not be under an id-dependent condition."""
    from .uniformity import check_barrier, reaches_barrier
    if reaches_barrier(function):
        check_barrier(fc, node, f"helper '{function.name}', which calls barrier(),")


# ---- atomics -----------------------------------------------------------------------------------
ATOMICS = {lang.atomic_add: "add", lang.atomic_min: "min", lang.atomic_max: "max", lang.atomic_and: "and",
           lang.atomic_or: "or", lang.atomic_xor: "xor", lang.atomic_exchange: "exchange",
           lang.atomic_compare_exchange: "compare_exchange"}
INTEGER_ATOMIC_TYPES = ("i32", "u32", "i64", "u64")


def atomic(fc, obj, node):
    """``atomic_OP(buf, index, value)`` (``compare_exchange``: ``buf, index, compare, value``): the old value."""
    op = ATOMICS[obj]
    name = obj.__name__
    arity = 4 if op == "compare_exchange" else 3
    if len(node.args) != arity:
        usage = "buf, index, compare, value" if arity == 4 else "buf, index, value"
        raise fc.error(node, f"{name}() takes {arity} arguments: {name}({usage})")
    buf_node, index_node, *value_nodes = node.args
    buffer = getattr(fc.visit(buf_node), "obj", None)
    if not isinstance(buffer, BufferRef):
        raise fc.error(buf_node, f"the first argument of {name}() must be a buffer or a shared array")
    element = buffer.type.element
    _check_atomic_type(fc, node, name, op, buffer, element)
    subscript = ast.copy_location(ast.Subscript(value=buf_node, slice=index_node, ctx=ast.Load()), index_node)
    place = fc.element(buffer, subscript)
    values = [_atomic_operand(fc, n, fc.value(n), element, name) for n in value_nodes]
    return Expr("atomic", element, (place.index, *values), attr=(buffer, op), loc=fc.loc(node))


def _check_atomic_type(fc, node, name, op, buffer, element):
    target = fc.ctx.target
    device = f"the device ({target.device_name})"
    shared = isinstance(buffer, SharedRef)
    if isinstance(element, ScalarType) and element.name in INTEGER_ATOMIC_TYPES:
        if element.bits == 64:
            if shared:
                raise fc.error(node, f"{name}() on a shared array of {element.name}: 64-bit atomics work on buffer "
                                     "elements only; use a 32-bit shared array")
            if not target.int64_atomics:
                raise fc.error(node, f"{name}() on {element.name} needs 64-bit integer atomics "
                                     f"(shaderBufferInt64Atomics), which {device} does not support; use i32/u32")
        return
    if element == f32 and op == "add":
        feature, flag = (("shaderSharedFloat32AtomicAdd", "float32_atomic_add_shared") if shared else
                         ("shaderBufferFloat32AtomicAdd", "float32_atomic_add"))
        if not getattr(target, flag):
            raise fc.error(node, f"atomic_add() on f32 needs float atomic add ({feature}, VK_EXT_shader_atomic_float), "
                                 f"which {device} does not support; accumulate in integers (e.g. fixed point)")
        return
    allowed = "i32, u32, i64, u64" + (" and (atomic_add only) f32" if op != "add" else " or f32")
    raise fc.error(node, f"{name}() works on elements of {allowed}, not {element.name}")


def _atomic_operand(fc, node, value, element, name):
    """An atomic's operand, converted to the element type like a store (but no float into an integer)."""
    if not V.is_literal(value) and not isinstance(value.type, ScalarType):
        raise fc.error(node, f"{name}() takes a scalar value, not {value.type.name}")
    is_float = isinstance(value.attr, float) if V.is_literal(value) else value.type.kind == "f"
    if is_float and element.kind != "f":
        raise fc.error(node, f"{name}() on {element.name} needs an integer value; convert with {element.name}(...)")
    if (isinstance(value.attr, bool) if V.is_literal(value) else value.type.kind == "b"):
        raise fc.error(node, f"{name}() needs a number, not a bool; convert with {element.name}(...)")
    return fc.checked(node, V.coerce, value, element)


def atomic_buffers(functions):
    """The buffers some function updates atomically (they are written, so not bound read-only)."""
    found = set()

    def visit(e):
        if e.op == "atomic":
            found.add(e.attr[0])
        for a in e.args:
            visit(a)

    def visit_statements(stmts):
        for s in stmts:
            for field in ("value", "index", "cond"):
                e = getattr(s, field, None)
                if isinstance(e, Expr):
                    visit(e)
            for child in ("body", "orelse", "step"):
                visit_statements(getattr(s, child, ()))

    for fn in functions:
        visit_statements(fn.body)
    return found


def shared_bytes(program):
    """Bytes of workgroup memory a program declares."""
    return sum(ref.type.size for ref in program.shared)


# ---- subgroups ---------------------------------------------------------------------------------
# The Target's subgroup feature each operation needs (VkSubgroupFeatureFlags, by the Target's names).
SUBGROUP_FEATURES = {"add": "arithmetic", "min": "arithmetic", "max": "arithmetic", "broadcast": "ballot",
                     "shuffle": "shuffle", "ballot": "ballot", "size": "basic"}
SUBGROUP_REDUCTIONS = {lang.subgroup_add: "add", lang.subgroup_min: "min", lang.subgroup_max: "max"}


def _require_subgroup(fc, node, name, op):
    feature = SUBGROUP_FEATURES[op]
    target = fc.ctx.target
    if feature not in target.subgroup_operations:
        raise fc.error(node, f"{name}() needs subgroup {feature} operations, which the device ({target.device_name}) "
                             "does not support; use shared memory and barrier() instead")


def _subgroup_value(fc, node, name, allow_bool=False, allow_vector=False):
    value = fc.checked(node, V.default_typed, fc.value(node))
    t = value.type
    scalar = t.scalar if isinstance(t, VectorType) and allow_vector else t
    if not isinstance(scalar, ScalarType) or (scalar.kind == "b" and not allow_bool):
        raise fc.error(node, f"{name}() takes a numeric scalar, not {t.name}")
    extended = scalar.bits < 32 if scalar.kind == "f" else scalar.kind != "b" and scalar.bits != 32
    if extended and not fc.ctx.target.subgroup_extended_types:
        raise fc.error(node, f"{name}() of a {scalar.name} value needs subgroup operations on {scalar.bits}-bit "
                             f"types (shaderSubgroupExtendedTypes), which the device ({fc.ctx.target.device_name}) "
                             "does not support; convert the value to a 32-bit type first")
    return value


def subgroup_reduce(fc, obj, node):
    """``subgroup_add/min/max(x)``: the reduction over the subgroup's active invocations."""
    op, name = SUBGROUP_REDUCTIONS[obj], obj.__name__
    if len(node.args) != 1:
        raise fc.error(node, f"{name}() takes one argument")
    _require_subgroup(fc, node, name, op)
    value = _subgroup_value(fc, node.args[0], name)
    return Expr("subgroup", value.type, (value,), attr=op, loc=fc.loc(node))


def subgroup_broadcast(fc, obj, node):
    """``subgroup_broadcast(value, lane)``: a literal lane broadcasts; any other lane is a shuffle."""
    if len(node.args) != 2:
        raise fc.error(node, "subgroup_broadcast() takes two arguments: the value and the lane")
    value = _subgroup_value(fc, node.args[0], "subgroup_broadcast", allow_bool=True, allow_vector=True)
    lane = fc.index_value(node.args[1])
    if V.is_literal(lane) and lane.attr < 0:
        raise fc.error(node.args[1], "a subgroup lane cannot be negative")
    op = "broadcast" if V.is_literal(lane) else "shuffle"
    _require_subgroup(fc, node, "subgroup_broadcast", op)
    lane = fc.checked(node.args[1], V.coerce, lane, u32)
    return Expr("subgroup", value.type, (value, lane), attr=op, loc=fc.loc(node))


def subgroup_ballot(fc, obj, node):
    """``subgroup_ballot(cond)``: a uvec4 with bit k set where ``cond`` holds in lane k."""
    if len(node.args) != 1:
        raise fc.error(node, "subgroup_ballot() takes one argument, a condition")
    _require_subgroup(fc, node, "subgroup_ballot", "ballot")
    cond = fc.condition(node.args[0])
    if V.is_literal(cond):
        cond = V.const(bool(cond.attr), boolean, cond.loc)
    return Expr("subgroup", uvec4, (cond,), attr="ballot", loc=fc.loc(node))


def subgroup_size(fc, obj, node):
    """``subgroup_size()``: the subgroup's width, an i32 like the other index-like values."""
    if node.args:
        raise fc.error(node, "subgroup_size() takes no arguments")
    _require_subgroup(fc, node, "subgroup_size", "size")
    return Expr("subgroup", i32, attr="size", loc=fc.loc(node))


HANDLERS = {lang.shared: shared_misplaced, lang.barrier: barrier, **{k: atomic for k in ATOMICS},
            **{k: subgroup_reduce for k in SUBGROUP_REDUCTIONS}, lang.subgroup_broadcast: subgroup_broadcast,
            lang.subgroup_ballot: subgroup_ballot, lang.subgroup_size: subgroup_size}

__all__ = ["SharedType", "SharedRef", "HANDLERS", "is_shared_declaration", "declare_shared", "atomic_buffers",
           "shared_bytes"]
