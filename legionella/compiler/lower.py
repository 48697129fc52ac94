"""Lowering: the typed IR of a :class:`~.ir.Program` to a SPIR-V module, through ``legionella.spirv``.

Follows the launch ABI of :mod:`.artifact`: buffers are storage buffers in set 0, scalars and shapes
are push-constant members after the 32-byte header, and ``global_id()`` is
``(WorkgroupId + group_offset) * workgroup + LocalInvocationId``. Locals are Function variables
(initialised to zero, so the output never depends on undefined values); control flow is structured
(selection and loop merges) as SPIR-V requires. Instruction choice per operand kind is data: the tables
below map ``(ir op, kind letter)`` to an opcode.
"""
from ..lang.types import MatrixType, ScalarType, StructType, VectorType, boolean, i32, u32, uvec3
from ..spirv import GLSL, Module, Op, enums
from .ir import Assign, Break, Continue, ExprStmt, If, Loop, Return, Store, has_effect
from .typerules import TupleType, scalar_of, with_scalar
from . import loops, matrix_lowering, workgroup_lowering
from .uniforms import UniformRef, uniform_pointer
from .workgroup import SharedRef

SC = enums.StorageClass
DEC = enums.Decoration

BINOPS = {
    ("add", "f"): Op.FAdd, ("add", "i"): Op.IAdd, ("add", "u"): Op.IAdd,
    ("sub", "f"): Op.FSub, ("sub", "i"): Op.ISub, ("sub", "u"): Op.ISub,
    ("mul", "f"): Op.FMul, ("mul", "i"): Op.IMul, ("mul", "u"): Op.IMul,
    ("truediv", "f"): Op.FDiv, ("floordiv", "u"): Op.UDiv,
    ("mod", "f"): Op.FMod, ("mod", "u"): Op.UMod, ("fmod", "f"): Op.FRem,
    ("lshift", "i"): Op.ShiftLeftLogical, ("lshift", "u"): Op.ShiftLeftLogical,
    ("rshift", "i"): Op.ShiftRightArithmetic, ("rshift", "u"): Op.ShiftRightLogical,
    ("bitand", "i"): Op.BitwiseAnd, ("bitand", "u"): Op.BitwiseAnd, ("bitand", "b"): Op.LogicalAnd,
    ("bitor", "i"): Op.BitwiseOr, ("bitor", "u"): Op.BitwiseOr, ("bitor", "b"): Op.LogicalOr,
    ("bitxor", "i"): Op.BitwiseXor, ("bitxor", "u"): Op.BitwiseXor, ("bitxor", "b"): Op.LogicalNotEqual,
}
# != is unordered so that nan != nan is True, as in Python; the others are ordered (False with a nan).
COMPARES = {
    ("eq", "f"): Op.FOrdEqual, ("eq", "i"): Op.IEqual, ("eq", "u"): Op.IEqual, ("eq", "b"): Op.LogicalEqual,
    ("ne", "f"): Op.FUnordNotEqual, ("ne", "i"): Op.INotEqual, ("ne", "u"): Op.INotEqual,
    ("ne", "b"): Op.LogicalNotEqual,
    ("lt", "f"): Op.FOrdLessThan, ("lt", "i"): Op.SLessThan, ("lt", "u"): Op.ULessThan,
    ("le", "f"): Op.FOrdLessThanEqual, ("le", "i"): Op.SLessThanEqual, ("le", "u"): Op.ULessThanEqual,
    ("gt", "f"): Op.FOrdGreaterThan, ("gt", "i"): Op.SGreaterThan, ("gt", "u"): Op.UGreaterThan,
    ("ge", "f"): Op.FOrdGreaterThanEqual, ("ge", "i"): Op.SGreaterThanEqual, ("ge", "u"): Op.UGreaterThanEqual,
}
UNOPS = {("neg", "f"): Op.FNegate, ("neg", "i"): Op.SNegate, ("neg", "u"): Op.SNegate,
         ("invert", "i"): Op.Not, ("invert", "u"): Op.Not, ("not", "b"): Op.LogicalNot}
# (from kind, to kind, same width?) -> conversion opcode
CONVERSIONS = {
    ("f", "f", False): Op.FConvert, ("i", "f", True): Op.ConvertSToF, ("i", "f", False): Op.ConvertSToF,
    ("u", "f", True): Op.ConvertUToF, ("u", "f", False): Op.ConvertUToF,
    ("f", "i", True): Op.ConvertFToS, ("f", "i", False): Op.ConvertFToS,
    ("f", "u", True): Op.ConvertFToU, ("f", "u", False): Op.ConvertFToU,
    ("i", "i", False): Op.SConvert, ("i", "u", False): Op.SConvert, ("u", "u", False): Op.UConvert,
    ("i", "u", True): Op.Bitcast, ("u", "i", True): Op.Bitcast,
}  # u -> i of another width: UConvert (whose result must be unsigned), then Bitcast
INVOCATION_BUILTINS = {"local_id": enums.BuiltIn.LocalInvocationId, "group_id": enums.BuiltIn.WorkgroupId}


def round_up(value, align):
    """``value`` rounded up to a multiple of ``align``."""
    return -(-value // align) * align


def element_stride(t):
    """The std430 array stride of a buffer element type."""
    return round_up(t.size, t.align)


class ModuleLowering:
    """Owns the SPIR-V module: types, interface variables, and one :class:`FunctionLowering` per function."""

    def __init__(self, program, target):
        self.program = program
        self.target = target
        self.m = Module(version=target.spirv_version)
        self.types = {}
        self.buffer_vars = {}
        self.files = {}
        self.inputs = {}
        self.functions = {}
        self.shared_vars = {}  # workgroup.SharedRef -> its Workgroup variable
        self._push = None

    # ---- types ------------------------------------------------------------------------------------
    def type(self, t):
        """The SPIR-V type id of a lang type (plain, without explicit layout)."""
        tid = self.types.get(t)
        if tid is not None:
            return tid
        m = self.m
        if t is None:
            tid = m.type_void()
        elif isinstance(t, ScalarType):
            tid = m.type_bool() if t.kind == "b" else (
                m.type_float(t.bits) if t.kind == "f" else m.type_int(t.bits, signed=t.kind == "i"))
        elif isinstance(t, VectorType):
            tid = m.type_vector(self.type(t.scalar), t.n)
        elif isinstance(t, MatrixType):
            tid = m.type_matrix(self.type(t.column), t.cols)
        elif isinstance(t, TupleType):
            tid = m.type_struct([self.type(e) for e in t.elements])
        elif isinstance(t, StructType):
            tid = self.layout_struct(t)
        else:
            raise AssertionError(f"no SPIR-V type for {t!r}")
        self.types[t] = tid
        return tid

    def layout_struct(self, t):
        """A buffer element struct with std430 member offsets."""
        sid = self.m.type_struct([self.type(ft) for _, ft in t.fields])
        for k, ((name, _), offset) in enumerate(zip(t.fields, t.offsets)):
            self.m.member_decorate(sid, k, DEC.Offset, offset)
            self.m.member_name(sid, k, name)
        self.m.name(sid, t.name)
        return sid

    def pointer(self, storage, t):
        """The pointer type id for a storage class and lang type (cached)."""
        key = ("ptr", storage, t)
        if key not in self.types:
            self.types[key] = self.m.type_pointer(storage, self.type(t))
        return self.types[key]

    def const(self, t, value):
        """A constant of a scalar or vector type (a vector from one value splats)."""
        if isinstance(t, VectorType):
            values = value if isinstance(value, (tuple, list)) else (value,) * t.n
            return self.m.constant_composite(self.type(t), [self.const(t.scalar, v) for v in values])
        return self.m.constant(self.type(t), value)

    # ---- interface --------------------------------------------------------------------------------
    def buffer_var(self, buffer):
        """The StorageBuffer variable of a buffer parameter: ``struct { T data[]; }`` in set 0.

        In an aliased program (:attr:`~.ir.Program.aliased`: one array may be bound to several
        parameters) every variable is decorated ``Aliased``, so the driver reads memory back after a store
        through another variable instead of assuming distinct variables never overlap; and none is
        ``NonWritable``, which would tell the driver that the memory behind a read-only parameter does not
        change during the dispatch (a licence for a non-coherent read-only cache) when another parameter
        writes it."""
        var = self.buffer_vars.get(buffer)
        if var is None:
            m = self.m
            aliased = self.program.aliased
            element = buffer.type.element
            array = m.type_runtime_array(self.type(element))
            m.decorate(array, DEC.ArrayStride, element_stride(element))
            block = m.type_struct([array])
            m.decorate(block, DEC.Block)
            m.member_decorate(block, 0, DEC.Offset, 0)
            if isinstance(element, MatrixType):  # an array of matrices carries its layout on the member
                m.member_decorate(block, 0, DEC.ColMajor)
                m.member_decorate(block, 0, DEC.MatrixStride, element.column_stride)
            if buffer not in self.program.written and not aliased:
                m.member_decorate(block, 0, DEC.NonWritable)
            var = m.variable(m.type_pointer(SC.StorageBuffer, block), SC.StorageBuffer)
            m.decorate(var, DEC.DescriptorSet, buffer.descriptor_set)
            m.decorate(var, DEC.Binding, buffer.binding)
            if aliased:
                m.decorate(var, DEC.Aliased)
            m.name(var, buffer.name)
            self.buffer_vars[buffer] = var
        return var

    def push_block(self):
        """The push-constant variable: header (group_offset, num_groups), then scalars and shapes."""
        if self._push is None:
            m = self.m
            members = [("group_offset", uvec3, 0), ("num_groups", uvec3, 16), *self.program.push_members]
            block = m.type_struct([self.type(push_storage_type(t)) for _, t, _ in members])
            m.decorate(block, DEC.Block)
            for k, (name, _, offset) in enumerate(members):
                m.member_decorate(block, k, DEC.Offset, offset)
                m.member_name(block, k, name)
            var = m.variable(m.type_pointer(SC.PushConstant, block), SC.PushConstant)
            m.name(var, "push")
            self._push = (var, members)
        return self._push

    def input(self, builtin):
        """The Input variable of a uvec3 builtin (created on first use)."""
        var = self.inputs.get(builtin)
        if var is None:
            var = self.m.variable(self.pointer(SC.Input, uvec3), SC.Input)
            self.m.decorate(var, DEC.BuiltIn, builtin)
            self.inputs[builtin] = var
        return var

    def file(self, filename):
        """The OpString id of a source file name, for OpLine."""
        if filename not in self.files:
            self.files[filename] = self.m.source_file(filename)
        return self.files[filename]

    # ---- the module -------------------------------------------------------------------------------
    def run(self):
        """Emit the whole module and return its bytes."""
        program = self.program
        for fn in [*program.helpers, program.kernel]:
            params = [self.type(p.type) for p in fn.params]
            ret = None if fn.is_kernel else fn.return_type
            self.functions[fn] = self.m.function(self.type(ret), params, name=fn.name)
        for fn in [*program.helpers, program.kernel]:
            FunctionLowering(self, fn, self.functions[fn]).run()
        kernel_id = self.functions[program.kernel].id
        self.m.entry_point(enums.ExecutionModel.GLCompute, kernel_id, "main", list(self.inputs.values()))
        self.m.execution_mode(kernel_id, enums.ExecutionMode.LocalSize, *program.workgroup)
        return self.m.to_bytes()


def push_storage_type(t):
    """Bools travel as 32-bit words in push constants (SPIR-V bools have no memory layout)."""
    return u32 if t == boolean else t


class FunctionLowering:
    """Lowers one IR function's statements into its FunctionBuilder."""

    def __init__(self, module, fn, builder):
        self.ml = module
        self.m = module.m
        self.fn = fn
        self.f = builder
        self.vars = {}
        self.loops = []  # (merge label, continue label) of enclosing loops
        self.label = None

    def start(self, label=None):
        """Start a block and remember its label (phis need the predecessor labels)."""
        self.label = self.f.block(label)
        return self.label

    def run(self):
        """Lower the function's body (helpers copy their parameters into variables first)."""
        f = self.f
        self.start()
        for var, param in zip(self.fn.params, f.params):
            f.op(Op.Store, None, self.var(var), param)
        self.block(self.fn.body)
        if not f.terminated:
            if self.fn.return_type is None or self.fn.is_kernel:
                f.return_()
            else:
                f.unreachable()
        f.end()

    def var(self, var):
        """The Function variable of a local (created on first use, initialised to zero)."""
        ptr = self.vars.get(var)
        if ptr is None:
            ptr = self.f.variable(self.ml.pointer(SC.Function, var.type),
                                  initializer=self.m.constant_null(self.ml.type(var.type)))
            self.m.name(ptr, var.name)
            self.vars[var] = ptr
        return ptr

    def at(self, loc):
        """Attribute the next instructions to ``loc`` (OpLine)."""
        if loc is not None:
            self.f.line(self.ml.file(loc.filename), loc.line, loc.col)

    # ---- statements -------------------------------------------------------------------------------
    def block(self, stmts):
        """Lower a statement list; code after a terminator is unreachable and skipped."""
        for s in stmts:
            if self.f.terminated:
                return  # the rest is unreachable (after break/continue/return)
            self.at(s.loc)
            STATEMENTS[type(s)](self, s)

    def s_assign(self, s):
        value = self.expr(s.value)
        self.f.op(Op.Store, None, self.var(s.var), value)

    def s_store(self, s):
        value = self.expr(s.value)
        ptr = self.element_pointer(s.buffer, s.index, s.path, s.value.type)
        self.f.op(Op.Store, None, ptr, value)

    def s_expr(self, s):
        self.expr(s.value)

    def s_if(self, s):
        f, m = self.f, self.m
        cond = self.expr(s.cond)
        then_label, merge = m.new_id(), m.new_id()
        else_label = m.new_id() if s.orelse else merge
        f.selection_merge(merge)
        f.branch_conditional(cond, then_label, else_label)
        self.start(then_label)
        self.block(s.body)
        if not f.terminated:
            f.branch(merge)
        if s.orelse:
            self.start(else_label)
            self.block(s.orelse)
            if not f.terminated:
                f.branch(merge)
        self.start(merge)

    def s_loop(self, s):
        f, m = self.f, self.m
        self.block(loops.opaque_starts(s))  # no constant start for a variable stepping by -1 (loops.py)
        header, body, cont, merge = m.new_id(), m.new_id(), m.new_id(), m.new_id()
        f.branch(header)
        self.start(header)
        f.loop_merge(merge, cont)
        always = s.cond.op in ("const", "literal") and s.cond.attr is True
        if always:
            f.branch(body)
        else:
            check = m.new_id()
            f.branch(check)
            self.start(check)
            f.branch_conditional(self.expr(s.cond), body, merge)
        self.start(body)
        self.loops.append((merge, cont))
        self.block(s.body)
        self.loops.pop()
        if not f.terminated:
            f.branch(cont)
        self.start(cont)
        self.block(s.step)
        f.branch(header)
        self.start(merge)

    def s_break(self, s):
        self.f.branch(self.loops[-1][0])

    def s_continue(self, s):
        self.f.branch(self.loops[-1][1])

    def s_return(self, s):
        if s.value is None:
            self.f.return_()
        else:
            self.f.return_value(self.expr(s.value))

    # ---- memory -----------------------------------------------------------------------------------
    def element_pointer(self, buffer, index, path, leaf_type):
        """An access chain to a buffer element, then through its member path."""
        if isinstance(buffer, SharedRef):
            return workgroup_lowering.shared_pointer(self, buffer, index, path, leaf_type)
        if isinstance(buffer, UniformRef):
            return uniform_pointer(self, buffer, path, leaf_type)
        var = self.ml.buffer_var(buffer)
        indices = [self.ml.const(i32, 0), self.expr(index), *(self.ml.const(i32, k) for k in path)]
        return self.f.op(Op.AccessChain, self.ml.pointer(SC.StorageBuffer, leaf_type), var, *indices)

    def push_member(self, k, t):
        """Load push-constant member ``k`` (a bool is stored as a u32 word)."""
        var, members = self.ml.push_block()
        stored = push_storage_type(t)
        ptr = self.f.op(Op.AccessChain, self.ml.pointer(SC.PushConstant, stored), var, self.ml.const(i32, k))
        value = self.f.op(Op.Load, self.ml.type(stored), ptr)
        if t == boolean:
            value = self.f.op(Op.INotEqual, self.ml.type(boolean), value, self.ml.const(u32, 0))
        return value

    # ---- expressions ------------------------------------------------------------------------------
    def expr(self, e):
        """Lower an expression through :data:`EXPRESSIONS`; returns its id."""
        return EXPRESSIONS[e.op](self, e)

    def e_const(self, e):
        return self.ml.const(e.type, e.attr)

    def e_local(self, e):
        return self.f.op(Op.Load, self.ml.type(e.type), self.var(e.attr))

    def e_push(self, e):
        return self.push_member(e.attr, e.type)

    def e_shape(self, e):
        buffer, k = e.attr
        if isinstance(buffer, SharedRef):
            return workgroup_lowering.shared_dimension(self, buffer, k)
        return self.push_member(buffer.shape_member + k, i32)

    def e_load(self, e):
        buffer, path = e.attr
        ptr = self.element_pointer(buffer, e.args[0], path, e.type)
        return self.f.op(Op.Load, self.ml.type(e.type), ptr)

    def e_builtin(self, e):
        f, ml = self.f, self.ml
        name = e.attr
        uvec = ml.type(uvec3)
        if name == "workgroup_size":
            return ml.const(e.type, tuple(self.ml.program.workgroup))
        if name == "num_groups":
            value = self.push_member(1, uvec3)
        elif name == "local_id":
            value = f.op(Op.Load, uvec, ml.input(INVOCATION_BUILTINS[name]))
        else:
            group = f.op(Op.Load, uvec, ml.input(enums.BuiltIn.WorkgroupId))
            value = f.op(Op.IAdd, uvec, group, self.push_member(0, uvec3))
            if name == "global_id":
                local = f.op(Op.Load, uvec, ml.input(enums.BuiltIn.LocalInvocationId))
                scaled = f.op(Op.IMul, uvec, value, ml.const(uvec3, tuple(self.ml.program.workgroup)))
                value = f.op(Op.IAdd, uvec, scaled, local)
        return f.op(Op.Bitcast, ml.type(e.type), value)

    def e_binop(self, e):
        kind = scalar_of(e.type).kind
        a, b = (self.expr(x) for x in e.args)
        t = self.ml.type(e.type)
        if e.attr == "floordiv" and kind == "f":
            return self.f.ext_inst(t, GLSL.Floor, self.f.op(Op.FDiv, t, a, b))
        if kind == "i" and e.attr in ("floordiv", "mod"):
            return self.floor_rule(e.attr, e.type, a, b)
        return self.f.op(BINOPS[e.attr, kind], t, a, b)

    def floor_rule(self, op, t, a, b):
        """Python's ``//`` and ``%`` on signed ints from truncating SDiv: ``r = a - q * b``; when ``r`` is
        non-zero and its sign differs from the divisor's, the quotient is one less and the remainder gains
        ``b``. Neither OpSRem nor OpSMod is portable with negative operands: NVIDIA computes OpSRem as if
        they were unsigned (GLSL leaves ``%`` of negatives undefined) and lavapipe gives OpSMod the
        dividend's sign; OpSDiv, GLSL's ``/``, truncates everywhere."""
        f, ml = self.f, self.ml
        tid = ml.type(t)
        bool_t = ml.type(boolean if not isinstance(t, VectorType) else VectorType(boolean, t.n))
        zero = ml.const(t, 0)
        q = f.op(Op.SDiv, tid, a, b)
        r = f.op(Op.ISub, tid, a, f.op(Op.IMul, tid, q, b))
        inexact = f.op(Op.INotEqual, bool_t, r, zero)
        signs_differ = f.op(Op.SLessThan, bool_t, f.op(Op.BitwiseXor, tid, r, b), zero)
        adjust = f.op(Op.LogicalAnd, bool_t, inexact, signs_differ)
        if op == "mod":
            return f.op(Op.Select, tid, adjust, f.op(Op.IAdd, tid, r, b), r)
        return f.op(Op.ISub, tid, q, f.op(Op.Select, tid, adjust, ml.const(t, 1), zero))

    def e_cmp(self, e):
        a, b = (self.expr(x) for x in e.args)
        kind = scalar_of(e.args[0].type).kind
        return self.f.op(COMPARES[e.attr, kind], self.ml.type(e.type), a, b)  # bool, or bvecN lane by lane

    def e_unop(self, e):
        return self.f.op(UNOPS[e.attr, scalar_of(e.type).kind], self.ml.type(e.type), self.expr(e.args[0]))

    def e_convert(self, e):
        src, dst = scalar_of(e.args[0].type), scalar_of(e.type)
        value = self.expr(e.args[0])
        if src == dst:
            return value
        if src.kind == "u" and dst.kind == "i" and src.bits != dst.bits:
            wide = with_scalar(e.type, ScalarType(f"u{dst.bits}", "u", dst.bits))
            value = self.f.op(Op.UConvert, self.ml.type(wide), value)
            return self.f.op(Op.Bitcast, self.ml.type(e.type), value)
        opcode = CONVERSIONS[src.kind, dst.kind, src.bits == dst.bits]
        return self.f.op(opcode, self.ml.type(e.type), value)

    def e_select(self, e):
        c, a, b = (self.expr(x) for x in e.args)
        return self.f.op(Op.Select, self.ml.type(e.type), c, a, b)

    def branchy(self, cond, first, second, result_type, swap=False):
        """Evaluate ``first`` only when ``cond`` holds (or, with swap, when it fails); merge with a phi.

        The phi's other incoming value is ``second`` (an id computed before the branch)."""
        f, m = self.f, self.m
        taken, merge = m.new_id(), m.new_id()
        before = self.label
        f.selection_merge(merge)
        f.branch_conditional(cond, merge, taken) if swap else f.branch_conditional(cond, taken, merge)
        self.start(taken)
        value = self.expr(first)
        after = self.label
        f.branch(merge)
        self.start(merge)
        return f.op(Op.Phi, self.ml.type(result_type), value, after, second, before)

    def e_and(self, e):
        a = self.expr(e.args[0])
        if is_cheap(e.args[1]):
            return self.f.op(Op.LogicalAnd, self.ml.type(boolean), a, self.expr(e.args[1]))
        return self.branchy(a, e.args[1], a, boolean)

    def e_or(self, e):
        a = self.expr(e.args[0])
        if is_cheap(e.args[1]):
            return self.f.op(Op.LogicalOr, self.ml.type(boolean), a, self.expr(e.args[1]))
        return self.branchy(a, e.args[1], a, boolean, swap=True)

    def e_ifexp(self, e):
        cond_e, a_e, b_e = e.args
        c = self.expr(cond_e)
        # a bool condition selects a whole vector or matrix only from SPIR-V 1.4 on; before, a branch
        selectable = isinstance(e.type, ScalarType) or self.ml.target.spirv_version >= (1, 4)
        if is_cheap(a_e) and is_cheap(b_e) and selectable:
            return self.f.op(Op.Select, self.ml.type(e.type), c, self.expr(a_e), self.expr(b_e))
        f, m = self.f, self.m
        then_label, else_label, merge = m.new_id(), m.new_id(), m.new_id()
        f.selection_merge(merge)
        f.branch_conditional(c, then_label, else_label)
        self.start(then_label)
        a = self.expr(a_e)
        a_end = self.label
        f.branch(merge)
        self.start(else_label)
        b = self.expr(b_e)
        b_end = self.label
        f.branch(merge)
        self.start(merge)
        return f.op(Op.Phi, self.ml.type(e.type), a, a_end, b, b_end)

    def e_let(self, e):
        self.f.op(Op.Store, None, self.var(e.attr), self.expr(e.args[0]))
        return self.expr(e.args[1])

    def e_call(self, e):
        callee = self.ml.functions[e.attr]
        args = [self.expr(a) for a in e.args]
        return self.f.op(Op.FunctionCall, self.ml.type(e.type), callee.id, *args)

    def e_ext(self, e):
        return self.f.ext_inst(self.ml.type(e.type), GLSL[e.attr], *(self.expr(a) for a in e.args))

    def e_dot(self, e):
        return self.f.op(Op.Dot, self.ml.type(e.type), *(self.expr(a) for a in e.args))

    def e_isnan(self, e):
        return self.f.op(Op.IsNan, self.ml.type(e.type), self.expr(e.args[0]))

    def e_isinf(self, e):
        return self.f.op(Op.IsInf, self.ml.type(e.type), self.expr(e.args[0]))

    def e_construct(self, e):
        parts = [self.expr(a) for a in e.args]
        if all(a.op == "const" for a in e.args):
            return self.m.constant_composite(self.ml.type(e.type), parts)
        return self.f.op(Op.CompositeConstruct, self.ml.type(e.type), *parts)

    def e_splat(self, e):
        value = self.expr(e.args[0])
        return self.f.op(Op.CompositeConstruct, self.ml.type(e.type), *[value] * e.type.n)

    def e_extract(self, e):
        return self.f.op(Op.CompositeExtract, self.ml.type(e.type), self.expr(e.args[0]), e.attr)

    def e_shuffle(self, e):
        v = self.expr(e.args[0])
        return self.f.op(Op.VectorShuffle, self.ml.type(e.type), v, v, *e.attr)

    def e_insert(self, e):
        composite, value = (self.expr(a) for a in e.args)
        return self.f.op(Op.CompositeInsert, self.ml.type(e.type), value, composite, e.attr)


_GUARDED_OPS = frozenset({"load", "and", "or", "ifexp", "subgroup"})


def is_cheap(e):
    """Whether evaluating ``e`` unconditionally is harmless, so a short circuit can become a plain
    ``OpLogicalAnd``/``OpSelect``: no buffer access (``i < n and a[i] > 0`` must still guard the load),
    no call, no nested branching, no subgroup operation (its result depends on which invocations run
    it: ``subgroup_add(1) if lane >= 4 else -1`` counts 4 lanes, not 8). Arithmetic cannot trap on a
    GPU, so it may run unconditionally."""
    return e.op not in _GUARDED_OPS and not has_effect(e) and all(is_cheap(a) for a in e.args)


STATEMENTS = {Assign: FunctionLowering.s_assign, Store: FunctionLowering.s_store, ExprStmt: FunctionLowering.s_expr,
              If: FunctionLowering.s_if, Loop: FunctionLowering.s_loop, Break: FunctionLowering.s_break,
              Continue: FunctionLowering.s_continue, Return: FunctionLowering.s_return}
EXPRESSIONS = {name[2:]: method for name, method in vars(FunctionLowering).items() if name.startswith("e_")}
EXPRESSIONS["literal"] = FunctionLowering.e_const
EXPRESSIONS.update(workgroup_lowering.LOWERINGS)
EXPRESSIONS.update(matrix_lowering.LOWERINGS)


def lower(program, target):
    """The SPIR-V bytes of a program for a target."""
    return ModuleLowering(program, target).run()
