"""Lowering of workgroup memory, barriers, atomics and subgroup operations to SPIR-V.

* A shared array is one Workgroup-storage ``OpVariable`` holding a flat ``OpTypeArray`` of its
  elements (row-major, indexed by the same linear index as n-D buffers).
* ``barrier()`` is ``OpControlBarrier(Workgroup, Workgroup, AcquireRelease | WorkgroupMemory)``: it
  orders shared memory, like GLSL's ``barrier()``.
* Atomics are ``OpAtomic*`` with Relaxed semantics, at Device scope on StorageBuffer elements and at
  Workgroup scope on shared arrays (Vulkan's and glslang's choice for ``atomicAdd``).
* Subgroup operations are ``OpGroupNonUniform*`` at Subgroup scope; reductions use ``Reduce``.

Each function takes the :class:`~.lower.FunctionLowering` and the IR expression; :data:`LOWERINGS`
maps IR ops to them for the lowering's dispatch table.
"""
import math

from ..lang.types import i32, u32
from ..spirv import Op, enums
from .workgroup import SharedRef

SC = enums.StorageClass
SCOPE = enums.Scope
SEMANTICS = enums.MemorySemantics
GROUP = enums.GroupOperation

# (atomic op, element kind letter) -> opcode
ATOMIC_OPCODES = {
    ("add", "i"): Op.AtomicIAdd, ("add", "u"): Op.AtomicIAdd, ("add", "f"): Op.AtomicFAddEXT,
    ("min", "i"): Op.AtomicSMin, ("min", "u"): Op.AtomicUMin, ("max", "i"): Op.AtomicSMax,
    ("max", "u"): Op.AtomicUMax, ("and", "i"): Op.AtomicAnd, ("and", "u"): Op.AtomicAnd,
    ("or", "i"): Op.AtomicOr, ("or", "u"): Op.AtomicOr, ("xor", "i"): Op.AtomicXor, ("xor", "u"): Op.AtomicXor,
    ("exchange", "i"): Op.AtomicExchange, ("exchange", "u"): Op.AtomicExchange,
    ("compare_exchange", "i"): Op.AtomicCompareExchange, ("compare_exchange", "u"): Op.AtomicCompareExchange,
}
# (subgroup reduction, kind letter) -> opcode
SUBGROUP_OPCODES = {
    ("add", "i"): Op.GroupNonUniformIAdd, ("add", "u"): Op.GroupNonUniformIAdd, ("add", "f"): Op.GroupNonUniformFAdd,
    ("min", "i"): Op.GroupNonUniformSMin, ("min", "u"): Op.GroupNonUniformUMin, ("min", "f"): Op.GroupNonUniformFMin,
    ("max", "i"): Op.GroupNonUniformSMax, ("max", "u"): Op.GroupNonUniformUMax, ("max", "f"): Op.GroupNonUniformFMax,
}
BARRIER_SEMANTICS = SEMANTICS.AcquireRelease | SEMANTICS.WorkgroupMemory


def _u32(fl, value):
    return fl.ml.const(u32, int(value))


def shared_variable(ml, ref):
    """The Workgroup variable of a shared array (created on first use)."""
    var = ml.shared_vars.get(ref)
    if var is None:
        array = ml.m.type_array(ml.type(ref.type.element), math.prod(ref.type.shape))
        var = ml.m.variable(ml.m.type_pointer(SC.Workgroup, array), SC.Workgroup)
        ml.m.name(var, ref.name)
        ml.shared_vars[ref] = var
    return var


def shared_pointer(fl, ref, index, path, leaf_type):
    """A Workgroup pointer to element ``index`` (linear) of a shared array, then member ``path``."""
    indices = [fl.expr(index), *(fl.ml.const(i32, k) for k in path)]
    return fl.f.op(Op.AccessChain, fl.ml.pointer(SC.Workgroup, leaf_type), shared_variable(fl.ml, ref), *indices)


def shared_dimension(fl, ref, k):
    """``tile.shape[k]``: a constant."""
    return fl.ml.const(i32, ref.type.shape[k])


def lower_barrier(fl, e):
    workgroup = _u32(fl, SCOPE.Workgroup)
    fl.f.op(Op.ControlBarrier, None, workgroup, workgroup, _u32(fl, BARRIER_SEMANTICS))


def lower_atomic(fl, e):
    buffer, op = e.attr
    pointer = fl.element_pointer(buffer, e.args[0], (), e.type)
    scope = _u32(fl, SCOPE.Workgroup if isinstance(buffer, SharedRef) else SCOPE.Device)
    relaxed = _u32(fl, SEMANTICS.Relaxed)
    t = fl.ml.type(e.type)
    operands = [fl.expr(a) for a in e.args[1:]]
    if op == "compare_exchange":
        compare, value = operands
        return fl.f.op(Op.AtomicCompareExchange, t, pointer, scope, relaxed, relaxed, value, compare)
    return fl.f.op(ATOMIC_OPCODES[op, e.type.kind], t, pointer, scope, relaxed, *operands)


def lower_subgroup(fl, e):
    f, ml = fl.f, fl.ml
    scope = _u32(fl, SCOPE.Subgroup)
    t = ml.type(e.type)
    if e.attr == "size":
        return f.op(Op.Bitcast, t, f.op(Op.Load, ml.type(u32), _subgroup_size_input(ml)))
    args = [fl.expr(a) for a in e.args]
    if e.attr == "broadcast":
        return f.op(Op.GroupNonUniformBroadcast, t, scope, *args)
    if e.attr == "shuffle":
        return f.op(Op.GroupNonUniformShuffle, t, scope, *args)
    if e.attr == "ballot":
        return f.op(Op.GroupNonUniformBallot, t, scope, *args)
    return f.op(SUBGROUP_OPCODES[e.attr, e.type.kind], t, scope, GROUP.Reduce, *args)


def _subgroup_size_input(ml):
    var = ml.inputs.get(enums.BuiltIn.SubgroupSize)
    if var is None:
        var = ml.m.variable(ml.pointer(SC.Input, u32), SC.Input)
        ml.m.decorate(var, enums.Decoration.BuiltIn, enums.BuiltIn.SubgroupSize)
        ml.inputs[enums.BuiltIn.SubgroupSize] = var
    return var


LOWERINGS = {"barrier": lower_barrier, "atomic": lower_atomic, "subgroup": lower_subgroup}
