"""Hand-built compute modules used by the emitter tests and the benchmark.

Each ``build_*`` function returns a ``Module`` for a compute shader ``main`` with storage buffers of
32-bit elements bound at set 0, bindings 0..n-1 (the layout ``legionella.runtime.dispatch_spirv`` binds),
and, where it takes scalars, a push-constant block.
"""
from legionella.spirv import GLSL, Module, Op
from legionella.spirv.enums import BuiltIn, Decoration, ExecutionMode, ExecutionModel, MemorySemantics, Scope, \
    StorageClass

LOCAL_SIZE = 64


class Compute:
    """The parts every test kernel shares: scalar types, buffers, the invocation id, ``main``."""

    def __init__(self, version=(1, 3), element="float", buffers=1, push=()):
        m = self.m = Module(version=version)
        self.void = m.type_void()
        self.bool = m.type_bool()
        self.uint = m.type_int(32, signed=False)
        self.int = m.type_int(32, signed=True)
        self.float = m.type_float(32)
        self.element = {"float": self.float, "uint": self.uint, "int": self.int}[element]
        self.buffer_ptr = m.type_pointer(StorageClass.StorageBuffer, self.element)
        self.buffers = [self._buffer(i) for i in range(buffers)]
        uvec3 = m.type_vector(self.uint, 3)
        self.gid_var = m.variable(m.type_pointer(StorageClass.Input, uvec3), StorageClass.Input)
        m.decorate(self.gid_var, Decoration.BuiltIn, BuiltIn.GlobalInvocationId)
        self.push_types = [getattr(self, t) for t in push]
        if push:
            block = m.type_struct(self.push_types)
            m.decorate(block, Decoration.Block)
            for i in range(len(push)):
                m.member_decorate(block, i, Decoration.Offset, 4 * i)
            self.push_var = m.variable(m.type_pointer(StorageClass.PushConstant, block), StorageClass.PushConstant)
        self.f = m.function(self.void, [], name="main")
        self.interface = [self.gid_var]
        m.execution_mode(self.f.id, ExecutionMode.LocalSize, LOCAL_SIZE, 1, 1)
        self.f.block()
        self.gid = self.f.op(Op.CompositeExtract, self.uint, self.f.op(Op.Load, uvec3, self.gid_var), 0)

    def _buffer(self, binding):
        m = self.m
        array_t = m.type_runtime_array(self.element)
        m.decorate(array_t, Decoration.ArrayStride, 4)
        block = m.type_struct([array_t])
        m.decorate(block, Decoration.Block)
        m.member_decorate(block, 0, Decoration.Offset, 0)
        var = m.variable(m.type_pointer(StorageClass.StorageBuffer, block), StorageClass.StorageBuffer)
        m.decorate(var, Decoration.DescriptorSet, 0)
        m.decorate(var, Decoration.Binding, binding)
        return var

    def element_ptr(self, buffer, index):
        """Pointer to ``buffers[buffer][index]``."""
        zero = self.m.constant(self.int, 0)
        return self.f.op(Op.AccessChain, self.buffer_ptr, self.buffers[buffer], zero, index)

    def load(self, buffer, index):
        return self.f.op(Op.Load, self.element, self.element_ptr(buffer, index))

    def store(self, buffer, index, value):
        self.f.op(Op.Store, None, self.element_ptr(buffer, index), value)

    def push(self, member):
        """Load push-constant member ``member``."""
        m = self.m
        ptr_t = m.type_pointer(StorageClass.PushConstant, self.push_types[member])
        ptr = self.f.op(Op.AccessChain, ptr_t, self.push_var, m.constant(self.int, member))
        return self.f.op(Op.Load, self.push_types[member], ptr)

    def finish(self):
        self.f.return_()
        self.f.end()
        self.m.entry_point(ExecutionModel.GLCompute, self.f.id, "main", self.interface)
        return self.m


def build_saxpy(version=(1, 3)):
    """y[i] = a * x[i] + y[i] for i < n; buffers x, y; push constants (a: float, n: uint)."""
    k = Compute(version, buffers=2, push=("float", "uint"))
    f, m = k.f, k.m
    a, n = k.push(0), k.push(1)
    body, merge = m.new_id(), m.new_id()
    in_range = f.op(Op.ULessThan, k.bool, k.gid, n)
    f.selection_merge(merge)
    f.branch_conditional(in_range, body, merge)
    f.block(body)
    result = f.ext_inst(k.float, GLSL.Fma, a, k.load(0, k.gid), k.load(1, k.gid))
    k.store(1, k.gid, result)
    f.branch(merge)
    f.block(merge)
    return k.finish()


def build_loop(version=(1, 3)):
    """out[i] = sum of j for j in range(100) if j % 3 != 0, stopping (break) when j > i; buffer out (uint).

    A loop with a continue (skip multiples of 3) and a break.
    """
    k = Compute(version, element="uint", buffers=1)
    f, m = k.f, k.m
    u = k.uint
    zero, one, three, limit = (m.constant(u, v) for v in (0, 1, 3, 100))
    ptr_t = m.type_pointer(StorageClass.Function, u)
    total, j = f.variable(ptr_t, zero), f.variable(ptr_t, zero)
    header, cond_block, body, skip_check, add, cont, merge = (m.new_id() for _ in range(7))
    f.branch(header)
    f.block(header)
    f.loop_merge(merge, cont)
    f.branch(cond_block)
    f.block(cond_block)
    jv = f.op(Op.Load, u, j)
    f.branch_conditional(f.op(Op.ULessThan, k.bool, jv, limit), body, merge)
    f.block(body)
    jv = f.op(Op.Load, u, j)
    # break when j > i
    past_i = f.op(Op.UGreaterThan, k.bool, jv, k.gid)
    f.selection_merge(skip_check)
    f.branch_conditional(past_i, merge, skip_check)
    f.block(skip_check)
    # continue when j % 3 == 0
    multiple_of_3 = f.op(Op.IEqual, k.bool, f.op(Op.UMod, u, jv, three), zero)
    f.selection_merge(add)
    f.branch_conditional(multiple_of_3, cont, add)
    f.block(add)
    f.op(Op.Store, None, total, f.op(Op.IAdd, u, f.op(Op.Load, u, total), jv))
    f.branch(cont)
    f.block(cont)
    f.op(Op.Store, None, j, f.op(Op.IAdd, u, f.op(Op.Load, u, j), one))
    f.branch(header)
    f.block(merge)
    k.store(0, k.gid, f.op(Op.Load, u, total))
    return k.finish()


def build_nested_selection(version=(1, 3)):
    """out[i] = (i % 2 ? (i % 3 ? 1 : 2) : (i % 5 ? 3 : 4)) via nested if/else and an OpPhi; buffer out (uint)."""
    k = Compute(version, element="uint", buffers=1)
    f, m = k.f, k.m
    u = k.uint
    c = {v: m.constant(u, v) for v in (0, 1, 2, 3, 4, 5)}
    outer_true, outer_false, outer_merge = m.new_id(), m.new_id(), m.new_id()

    def inner(divisor, if_nonzero, if_zero):
        yes, no, merge = m.new_id(), m.new_id(), m.new_id()
        nonzero = f.op(Op.INotEqual, k.bool, f.op(Op.UMod, u, k.gid, c[divisor]), c[0])
        f.selection_merge(merge)
        f.branch_conditional(nonzero, yes, no)
        f.block(yes)
        f.branch(merge)
        f.block(no)
        f.branch(merge)
        f.block(merge)
        return f.op(Op.Phi, u, c[if_nonzero], yes, c[if_zero], no)

    odd_i = f.op(Op.INotEqual, k.bool, f.op(Op.UMod, u, k.gid, c[2]), c[0])
    f.selection_merge(outer_merge)
    f.branch_conditional(odd_i, outer_true, outer_false)
    f.block(outer_true)
    odd = inner(3, 1, 2)
    odd_end = m.new_id()
    f.branch(odd_end)
    f.block(odd_end)
    f.branch(outer_merge)
    f.block(outer_false)
    even = inner(5, 3, 4)
    even_end = m.new_id()
    f.branch(even_end)
    f.block(even_end)
    f.branch(outer_merge)
    f.block(outer_merge)
    k.store(0, k.gid, f.op(Op.Phi, u, odd, odd_end, even, even_end))
    return k.finish()


def build_workgroup_reverse(version=(1, 3)):
    """Each workgroup reverses its 64 elements through workgroup memory and a barrier; out[i] = in[j]."""
    k = Compute(version, buffers=2)
    f, m = k.f, k.m
    shared_t = m.type_array(k.float, LOCAL_SIZE)
    shared = m.variable(m.type_pointer(StorageClass.Workgroup, shared_t), StorageClass.Workgroup)
    lid_var = m.variable(m.type_pointer(StorageClass.Input, k.uint), StorageClass.Input)
    m.decorate(lid_var, Decoration.BuiltIn, BuiltIn.LocalInvocationIndex)
    k.interface.append(lid_var)
    lid = f.op(Op.Load, k.uint, lid_var)
    shared_ptr = m.type_pointer(StorageClass.Workgroup, k.float)
    f.op(Op.Store, None, f.op(Op.AccessChain, shared_ptr, shared, lid), k.load(0, k.gid))
    workgroup = m.constant(k.uint, Scope.Workgroup)
    semantics = m.constant(k.uint, MemorySemantics.WorkgroupMemory | MemorySemantics.AcquireRelease)
    f.op(Op.ControlBarrier, None, workgroup, workgroup, semantics)
    mirrored = f.op(Op.ISub, k.uint, m.constant(k.uint, LOCAL_SIZE - 1), lid)
    k.store(1, k.gid, f.op(Op.Load, k.float, f.op(Op.AccessChain, shared_ptr, shared, mirrored)))
    return k.finish()


def build_atomic_add(version=(1, 3)):
    """counter[in[i] % 8] += 1 with OpAtomicIAdd; buffers in (uint), counter (uint)."""
    k = Compute(version, element="uint", buffers=2)
    f, m = k.f, k.m
    bucket = f.op(Op.UMod, k.uint, k.load(0, k.gid), m.constant(k.uint, 8))
    device = m.constant(k.uint, Scope.Device)
    relaxed = m.constant(k.uint, 0)
    f.op(Op.AtomicIAdd, k.uint, k.element_ptr(1, bucket), device, relaxed, m.constant(k.uint, 1))
    return k.finish()


ALL = {"saxpy": build_saxpy, "loop": build_loop, "nested_selection": build_nested_selection,
       "workgroup_reverse": build_workgroup_reverse, "atomic_add": build_atomic_add}
