"""``FunctionBuilder``: the instructions of one function, block by block, with structured control flow.

Words go into three growable uint32 buffers (``array('I')``): the head (OpFunction, parameters, first
label), the first block's OpVariables (which SPIR-V requires at its top, whichever block is current when
they are asked for) and the body. ``end()`` joins them; ``Module.assemble`` hands numpy a view of the
result. Measured for 10,000 four-word instructions: ``array.extend`` 1.0 ms, a preallocated numpy array
grown by doubling and written by slice 3.6 ms (each numpy setitem costs more than the whole append).

``op()`` has a fast path for the common case (all operands plain ids, no merge or line bookkeeping
pending); anything else, including every error, goes through ``_op_checked``.
"""
from array import array

from .enums import FunctionControl, LoopControl, SelectionControl, StorageClass
from .capabilities import BY_RESULT_TYPE
from .errors import BuilderError
from .operands import OperandError
from .tables import GLSL_OPERANDS, OPCODES, OPERAND_KINDS, Op

# Block terminators (SPIR-V 2.2.4 "Termination instructions").
_TERMINATORS = frozenset({Op.Branch, Op.BranchConditional, Op.Switch, Op.Return, Op.ReturnValue, Op.Kill,
                          Op.Unreachable, Op.TerminateInvocation})
# A merge instruction must immediately precede one of these (SPIR-V 2.11 "Structured control flow").
_AFTER_MERGE = {Op.SelectionMerge: frozenset({Op.BranchConditional, Op.Switch}),
                Op.LoopMerge: frozenset({Op.Branch, Op.BranchConditional})}
# Operand positions that name a block label, for the check that every target became a block.
_LABEL_OPERANDS = {Op.Branch: (0,), Op.BranchConditional: (1, 2), Op.SelectionMerge: (0,),
                   Op.LoopMerge: (0, 1)}
# Instructions that have their own builder method (they need bookkeeping that op() does not do).
_OWN_METHOD = {Op.Label: "block()", Op.Function: "Module.function()", Op.FunctionParameter: "Module.function()",
               Op.FunctionEnd: "end()", Op.Line: "line()"}
_ID_KINDS = frozenset(k for k, category in OPERAND_KINDS.items() if category == "Id")


def _id_only_shape(info):
    """(fixed count, variadic) when every operand is a plain id (the fast path), else None."""
    fixed = [q for k, q in info.operands if k in _ID_KINDS and q == ""]
    starred = [q for k, q in info.operands if k in _ID_KINDS and q == "*"]
    if len(fixed) + len(starred) != len(info.operands) or len(starred) > 1:
        return None
    if starred and info.operands[-1][1] != "*":
        return None
    return len(fixed), bool(starred)


# The fast path of op(): ordinary instructions whose operands are all ids and that need no bookkeeping
# beyond writing them. opcode -> (has result type, has result, fixed operand count, variadic).
_FAST = {opcode: (info.has_result_type, info.has_result, *shape)
         for opcode, info in OPCODES.items()
         if (shape := _id_only_shape(info)) is not None and opcode not in _TERMINATORS and opcode not in _LABEL_OPERANDS
         and opcode not in _OWN_METHOD and opcode not in BY_RESULT_TYPE
         and opcode not in (Op.Variable, Op.FunctionCall, Op.Switch)}


class FunctionBuilder:
    """Build one function: ``f.block()``, ``f.op(...)`` ..., ``f.end()``. Made by ``Module.function``."""

    def __init__(self, module, return_type, param_types, name=None, control=FunctionControl.None_):
        self.module = module
        self.name = name
        fn_type = module.type_function(return_type, list(param_types))
        self.id = module.new_id()
        self._head = array("I")
        self._vars = array("I")
        self._body = array("I")
        module._write(self._head, Op.Function, return_type, self.id, (FunctionControl(control), fn_type))
        self.params = []
        for param_type in param_types:
            param = module.new_id()
            module._write(self._head, Op.FunctionParameter, param_type, param, ())
            self.params.append(param)
        if name is not None:
            module.name(self.id, name)
        self._block = None
        self._blocks = set()
        self._label_targets = set()
        self._first_block = True
        self.terminated = False
        self._expect = None          # opcodes allowed next (after a merge instruction)
        self._line = None            # (file, line, column) asked for by line()
        self._line_emitted = None    # the OpLine in effect in the current block
        self.globals_used = set()    # global variables referenced (the >= 1.4 entry-point interface)
        self.callees = set()
        self.words = None            # the function's words once end() has been called

    # -- errors -------------------------------------------------------------------------------------
    def where(self):
        """``function 'name' (%id), block %label`` for error messages."""
        fn = f"function '{self.name}' (%{self.id})" if self.name else f"function %{self.id}"
        return fn + (f", block %{self._block}" if self._block is not None else ", before its first block")

    def _error(self, message):
        raise BuilderError(f"{message} [in {self.where()}]")

    def _check_id(self, value, what):
        if type(value) is not int or not self.module._is_defined(value):
            self._error(f"{what} {value!r} is not an id allocated by this module")

    # -- blocks -------------------------------------------------------------------------------------
    def block(self, label=None):
        """Start a new block (with ``label``, an id from ``m.new_id()``, or a fresh one); return its label.

        The previous block must have been terminated.
        """
        if self.words is not None:
            self._error("block() after end()")
        if self._block is not None and not self.terminated:
            self._error(f"block %{self._block} is not terminated before a new block starts")
        if label is None:
            label = self.module.new_id()
        else:
            self._check_id(label, "label")
        if label in self._blocks:
            self._error(f"label %{label} already starts a block")
        self._blocks.add(label)
        self.module._write(self._head if self._first_block else self._body, Op.Label, None, label, ())
        self._first_block = False
        self._block = label
        self.terminated = False
        self._line_emitted = None
        return label

    # -- instructions -------------------------------------------------------------------------------
    def op(self, opcode, result_type, *operands):
        """Append one instruction; return its result id (None when it has none).

        Operands follow the grammar (count and kind are checked): ids are ints, literals ints/floats/str,
        enumerants their enum. ``f.op(Op.IAdd, int_t, a, b)``; ``f.op(Op.Store, None, ptr, value)``.
        """
        fast = _FAST.get(opcode)
        if (fast is not None and self._expect is None and not self.terminated and self._block is not None
                and self._line == self._line_emitted):
            has_result_type, has_result, fixed, variadic = fast
            module = self.module
            bound = module._bound
            count = len(operands)
            if (count == fixed or (variadic and count > fixed)) and (
                    result_type in module._type_ids if has_result_type else result_type is None):
                for value in operands:
                    if type(value) is not int or not 0 < value < bound:
                        break
                else:
                    module._used_opcodes.add(opcode)
                    if not module._global_vars.keys().isdisjoint(operands):
                        self.globals_used.update(v for v in operands if v in module._global_vars)
                    if not has_result:
                        self._body.extend(((count + 1) << 16 | opcode,) + operands)
                        return None
                    module._bound = bound + 1
                    if has_result_type:
                        self._body.extend(((count + 3) << 16 | opcode, result_type, bound) + operands)
                    else:
                        self._body.extend(((count + 2) << 16 | opcode, bound) + operands)
                    return bound
        return self._op_checked(opcode, result_type, operands)

    def _op_checked(self, opcode, result_type, operands):
        """op() for every case the fast path does not take: full checks, errors, bookkeeping."""
        info = OPCODES.get(opcode)
        if info is None:
            self._error(f"unknown opcode {opcode!r}")
        if self._block is None:
            self._error(f"Op{info.name} before the first block()")
        if self.terminated:
            self._error(f"Op{info.name} after the terminator of its block")
        if opcode in _OWN_METHOD:
            self._error(f"Op{info.name} has its own method: use {_OWN_METHOD[opcode]}")
        if opcode == Op.Variable:
            return self.variable(result_type, *operands[1:])
        expect = self._expect
        if expect is not None:
            if opcode not in expect:
                self._error(f"Op{info.name} follows a merge instruction; expected one of "
                            + ", ".join(f"Op{o.name}" for o in sorted(expect)))
            self._expect = None
        module = self.module
        words = []
        try:
            module.encoder.encode(info.operands, operands, words)
        except OperandError as exc:
            self._error(f"Op{info.name}: {exc}")
        if info.has_result_type:
            if result_type not in module._type_ids:
                self._error(f"Op{info.name}: result type {result_type!r} is not a type defined before use")
        elif result_type is not None:
            self._error(f"Op{info.name} has no result type; pass None")
        if self._line is not None and self._line != self._line_emitted and expect is None:
            module._write(self._body, Op.Line, None, None, self._line)
            self._line_emitted = self._line
        result = module.new_id() if info.has_result else None
        count = 1 + info.has_result_type + info.has_result + len(words)
        body = self._body
        body.append(count << 16 | opcode)
        if info.has_result_type:
            body.append(result_type)
        if result is not None:
            body.append(result)
        body.extend(words)
        module._used_opcodes.add(opcode)
        if not module._global_vars.keys().isdisjoint(operands):
            self.globals_used.update(v for v in operands if type(v) is int and v in module._global_vars)
        if opcode in _TERMINATORS:
            self.terminated = True
            self._line_emitted = None
        if opcode in _LABEL_OPERANDS:
            self._label_targets.update(operands[i] for i in _LABEL_OPERANDS[opcode])
            if opcode in _AFTER_MERGE:
                self._expect = _AFTER_MERGE[opcode]
        elif opcode == Op.Switch:
            self._label_targets.update(operands[1::2])
        elif opcode == Op.FunctionCall:
            self.callees.add(operands[0])
        elif opcode in BY_RESULT_TYPE:
            capability = BY_RESULT_TYPE[opcode].get(module._scalars.get(result_type, (None, 0))[:2])
            if capability is not None:
                module._extra_capabilities.add(capability)
        return result

    def variable(self, pointer_type, initializer=None):
        """A Function-storage OpVariable, placed at the top of the first block; returns its id."""
        module = self.module
        if module._pointer_storage.get(pointer_type) != StorageClass.Function:
            self._error(f"variable(): %{pointer_type} is not a pointer type of storage class Function")
        operands = (StorageClass.Function,) if initializer is None else (StorageClass.Function, initializer)
        try:
            words = []
            module.encoder.encode(OPCODES[Op.Variable].operands, operands, words)
        except OperandError as exc:
            self._error(f"OpVariable: {exc}")
        result = module.new_id()
        module._write(self._vars, Op.Variable, pointer_type, result, words, encoded=True)
        return result

    def ext_inst(self, result_type, instruction, *operands):
        """A GLSL.std.450 extended instruction: ``f.ext_inst(float_t, GLSL.FMax, a, b)``."""
        spec = GLSL_OPERANDS.get(instruction)
        if spec is None:
            self._error(f"{instruction!r} is not a GLSL.std.450 instruction")
        required = sum(1 for _, q in spec if q == "")
        if len(operands) < required or (len(operands) > len(spec) and not any(q == "*" for _, q in spec)):
            self._error(f"GLSL.std.450 {instruction.name if hasattr(instruction, 'name') else instruction} "
                        f"takes {len(spec)} operand(s), got {len(operands)}")
        return self.op(Op.ExtInst, result_type, self.module.glsl_std_450(), int(instruction), *operands)

    # -- structured control flow --------------------------------------------------------------------
    def selection_merge(self, merge_label, control=0):
        """OpSelectionMerge; a conditional branch or switch must follow."""
        self.op(Op.SelectionMerge, None, merge_label, SelectionControl(control))

    def loop_merge(self, merge_label, continue_label, control=0):
        """OpLoopMerge; a branch or conditional branch must follow."""
        self.op(Op.LoopMerge, None, merge_label, continue_label, LoopControl(control))

    def branch(self, label):
        """OpBranch to ``label``."""
        self.op(Op.Branch, None, label)

    def branch_conditional(self, condition, true_label, false_label):
        """OpBranchConditional on a bool id."""
        self.op(Op.BranchConditional, None, condition, true_label, false_label)

    def return_(self):
        """OpReturn."""
        self.op(Op.Return, None)

    def return_value(self, value):
        """OpReturnValue."""
        self.op(Op.ReturnValue, None, value)

    def unreachable(self):
        """OpUnreachable."""
        self.op(Op.Unreachable, None)

    def line(self, file_id, line, column=0):
        """Attribute the following instructions to ``file_id`` (from ``m.source_file``) ``line:column``;
        an OpLine is written before the next instruction unless the location is unchanged."""
        self._check_id(file_id, "line(): file")
        self._line = (file_id, int(line), int(column))

    # -- end ----------------------------------------------------------------------------------------
    def end(self):
        """OpFunctionEnd: every block must be terminated and every branch target must be a block."""
        if self.words is not None:
            self._error("end() called twice")
        if self._block is None:
            self._error("function has no blocks")
        if not self.terminated:
            self._error(f"block %{self._block} has no terminator at end()")
        missing = sorted(self._label_targets - self._blocks)
        if missing:
            self._error("branch or merge targets that never became blocks: " + ", ".join(f"%{m}" for m in missing))
        words = array("I", self._head)
        words.extend(self._vars)
        words.extend(self._body)
        words.append(1 << 16 | Op.FunctionEnd)
        self.words = words
        self.module._used_opcodes.update((Op.Function, Op.FunctionEnd, Op.Label))
