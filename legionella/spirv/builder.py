"""``Module``: ids, types, constants, globals, decorations, entry points, and the final word stream.

Sections are kept in separate growable uint32 buffers (``array('I')``, appended to in C) and joined in
the order of the SPIR-V spec's "Logical Layout of a Module" (section 2.4) by ``assemble()``.
"""
import struct
from array import array
from dataclasses import dataclass

import numpy as np

from . import capabilities, hooks
from .enums import AddressingModel, Decoration, ExecutionModel, FunctionControl, MemoryModel, SourceLanguage, \
    StorageClass
from .errors import BuilderError
from .function import FunctionBuilder
from .operands import OperandEncoder, OperandError
from .tables import OPCODES, Op

MAGIC = 0x07230203
GENERATOR = 0  # no registered tool id; spirv-dis shows "Khronos"
_SCALAR_CAPABILITIES = {("int", 8): "Int8", ("int", 16): "Int16", ("int", 64): "Int64",
                        ("float", 16): "Float16", ("float", 64): "Float64"}
# Interface-visible storage classes whose 8/16-bit contents need an extra capability (SPV_KHR_16bit_storage,
# SPV_KHR_8bit_storage), keyed by (storage class, width).
_NARROW_STORAGE_CAPABILITIES = {
    (StorageClass.StorageBuffer, 16): "StorageBuffer16BitAccess",
    (StorageClass.Uniform, 16): "UniformAndStorageBuffer16BitAccess",
    (StorageClass.PushConstant, 16): "StoragePushConstant16",
    (StorageClass.StorageBuffer, 8): "StorageBuffer8BitAccess",
    (StorageClass.Uniform, 8): "UniformAndStorageBuffer8BitAccess",
    (StorageClass.PushConstant, 8): "StoragePushConstant8",
}
_FLOAT_FORMATS = {16: "<e", 32: "<f", 64: "<d"}
_SOURCE_CHUNK = 15000  # characters per OpSource/OpSourceContinued: at most 60,000 bytes, under 65,535 words


@dataclass(frozen=True)
class TypeKey:
    """Identity of a non-struct type: the opcode and its operands (ids and literals).

    SPIR-V forbids two non-aggregate, non-pointer types with the same opcode and operands; we also share
    arrays, pointers and function types with equal operands (allowed, and what the compiler wants).
    Structs are never keyed: each call makes a new one, since it carries its own member decorations.
    """
    opcode: int
    operands: tuple


@dataclass(frozen=True)
class ConstantKey:
    """Identity of a constant: opcode (OpConstant, OpConstantTrue ...), type id and the value's words
    (its bit pattern, so 0.0 and -0.0 differ and NaNs with different payloads differ)."""
    opcode: int
    type_id: int
    words: tuple


class Module:
    """A SPIR-V module under construction (logical addressing, GLSL450 memory model).

    >>> m = Module()
    >>> m.type_int(32) == m.type_int(32)
    True
    """

    def __init__(self, version=(1, 3)):
        self.version = tuple(version)
        self._bound = 1
        self.encoder = OperandEncoder(self._is_defined)
        self._used_opcodes = set()
        self._explicit_capabilities = set()
        self._extra_capabilities = set()
        self._explicit_extensions = set()
        self._imports = array("I")
        self._glsl = None
        self._entry_points = []
        self._modes = array("I")
        self._debug_sources = array("I")
        self._names = array("I")
        self._annotations = array("I")
        self._decorations_seen = set()
        self._globals = array("I")
        self._types = {}
        self._type_ids = set()
        self._scalars = {}          # scalar type id -> ("int" | "float" | "bool", width, signed)
        self._components = {}       # composite type id -> member/component type ids
        self._pointer_storage = {}  # pointer type id -> storage class
        self._constants = {}
        self._global_vars = {}      # global variable id -> storage class
        self._functions = []

    # -- ids and raw writing --------------------------------------------------------------------------
    def new_id(self):
        """A fresh id (e.g. a label referenced before its block starts)."""
        value = self._bound
        self._bound += 1
        return value

    def _is_defined(self, value):
        return 0 < value < self._bound

    def _write(self, section, opcode, result_type, result, operands, encoded=False):
        """Append one instruction to ``section``; ``operands`` are encoded against the grammar unless
        ``encoded``."""
        words = operands
        if not encoded:
            words = []
            try:
                self.encoder.encode(OPCODES[opcode].operands, operands, words)
            except OperandError as exc:
                raise BuilderError(f"Op{OPCODES[opcode].name}: {exc}") from None
        count = 1 + (result_type is not None) + (result is not None) + len(words)
        if count > 0xFFFF:
            raise BuilderError(f"Op{OPCODES[opcode].name} would have {count} words (at most 65535)")
        section.append(count << 16 | opcode)
        if result_type is not None:
            section.append(result_type)
        if result is not None:
            section.append(result)
        section.extend(words)
        self._used_opcodes.add(opcode)

    def _check_type(self, type_id, what):
        if type_id not in self._type_ids:
            raise BuilderError(f"{what}: {type_id!r} is not a type defined before use")

    # -- types ----------------------------------------------------------------------------------------
    def _type(self, opcode, *operands, components=()):
        key = TypeKey(opcode, operands)
        type_id = self._types.get(key)
        if type_id is None:
            type_id = self.new_id()
            self._write(self._globals, opcode, None, type_id, operands)
            self._types[key] = type_id
            self._type_ids.add(type_id)
            if components:
                self._components[type_id] = tuple(components)
        return type_id

    def type_void(self):
        """OpTypeVoid."""
        return self._type(Op.TypeVoid)

    def type_bool(self):
        """OpTypeBool."""
        type_id = self._type(Op.TypeBool)
        self._scalars[type_id] = ("bool", 0, False)
        return type_id

    def type_int(self, width, signed=True):
        """OpTypeInt ``width`` (8, 16, 32, 64); the capability for a width other than 32 is derived."""
        type_id = self._type(Op.TypeInt, width, int(bool(signed)))
        self._scalars[type_id] = ("int", width, bool(signed))
        self._require_width("int", width)
        return type_id

    def type_float(self, width):
        """OpTypeFloat ``width`` (16, 32, 64)."""
        type_id = self._type(Op.TypeFloat, width)
        self._scalars[type_id] = ("float", width, True)
        self._require_width("float", width)
        return type_id

    def _require_width(self, kind, width):
        capability = _SCALAR_CAPABILITIES.get((kind, width))
        if capability is not None:
            self._extra_capabilities.add(capability)

    def type_vector(self, component_id, count):
        """OpTypeVector of ``count`` components."""
        self._check_type(component_id, "type_vector component")
        return self._type(Op.TypeVector, component_id, count, components=(component_id,))

    def type_matrix(self, column_type_id, columns):
        """OpTypeMatrix of ``columns`` columns of a vector type."""
        self._check_type(column_type_id, "type_matrix column")
        return self._type(Op.TypeMatrix, column_type_id, columns, components=(column_type_id,))

    def type_array(self, element_id, length):
        """OpTypeArray; ``length`` is a Python int (the builder makes the uint32 constant)."""
        self._check_type(element_id, "type_array element")
        length_id = self.constant(self.type_int(32, signed=False), int(length))
        return self._type(Op.TypeArray, element_id, length_id, components=(element_id,))

    def type_runtime_array(self, element_id):
        """OpTypeRuntimeArray."""
        self._check_type(element_id, "type_runtime_array element")
        return self._type(Op.TypeRuntimeArray, element_id, components=(element_id,))

    def type_struct(self, member_ids):
        """OpTypeStruct: always a new type (it carries its own decorations)."""
        for member in member_ids:
            self._check_type(member, "type_struct member")
        type_id = self.new_id()
        self._write(self._globals, Op.TypeStruct, None, type_id, tuple(member_ids))
        self._type_ids.add(type_id)
        self._components[type_id] = tuple(member_ids)
        return type_id

    def type_pointer(self, storage_class, pointee_id):
        """OpTypePointer; 8/16-bit contents in StorageBuffer/Uniform/PushConstant derive their storage
        capability."""
        self._check_type(pointee_id, "type_pointer pointee")
        type_id = self._type(Op.TypePointer, StorageClass(storage_class), pointee_id)
        self._pointer_storage[type_id] = StorageClass(storage_class)
        for width in self._narrow_widths(pointee_id):
            capability = _NARROW_STORAGE_CAPABILITIES.get((storage_class, width))
            if capability is not None:
                self._extra_capabilities.add(capability)
        return type_id

    def _narrow_widths(self, type_id):
        """The widths below 32 bits of the scalars inside a type."""
        scalar = self._scalars.get(type_id)
        if scalar is not None:
            return {scalar[1]} if scalar[0] != "bool" and scalar[1] < 32 else set()
        out = set()
        for component in self._components.get(type_id, ()):
            out |= self._narrow_widths(component)
        return out

    def type_function(self, return_id, param_ids):
        """OpTypeFunction."""
        self._check_type(return_id, "type_function return type")
        for param in param_ids:
            self._check_type(param, "type_function parameter")
        return self._type(Op.TypeFunction, return_id, *param_ids)

    # -- constants ------------------------------------------------------------------------------------
    def _scalar_words(self, type_id, value, what):
        scalar = self._scalars.get(type_id)
        if scalar is None:
            raise BuilderError(f"{what}: %{type_id} is not a scalar type")
        kind, width, signed = scalar
        if kind == "float":
            data = struct.pack(_FLOAT_FORMATS[width], float(value))
            if width == 16:
                data += b"\0\0"
            return struct.unpack(f"<{len(data) // 4}I", data)
        value = int(value)
        low, high = (-(1 << (width - 1)), 1 << (width - 1)) if signed else (0, 1 << width)
        if not (low <= value < high or (signed and 0 <= value < 1 << width)):
            raise BuilderError(f"{what}: {value} does not fit a {width}-bit {'signed' if signed else 'unsigned'} int")
        if signed and width < 32 and value < 0:
            value = value & ((1 << width) - 1)
            if value >> (width - 1):  # sign-extend to 32 bits as the spec requires for narrow types
                value |= 0xFFFFFFFF & ~((1 << width) - 1)
        value &= (1 << max(width, 32)) - 1
        return (value & 0xFFFFFFFF, value >> 32) if width == 64 else (value & 0xFFFFFFFF,)

    def constant(self, type_id, value):
        """A scalar constant, deduplicated by (type, bit pattern): ``m.constant(float_t, 2.0)``;
        bools give OpConstantTrue/False; 64-bit values take two words."""
        if self._scalars.get(type_id, ("",))[0] == "bool":
            return self._constant(Op.ConstantTrue if value else Op.ConstantFalse, type_id, ())
        return self._constant(Op.Constant, type_id, self._scalar_words(type_id, value, "constant"))

    def _constant(self, opcode, type_id, words):
        key = ConstantKey(opcode, type_id, tuple(words))
        constant_id = self._constants.get(key)
        if constant_id is None:
            constant_id = self.new_id()
            self._write(self._globals, opcode, type_id, constant_id, list(words), encoded=True)
            self._constants[key] = constant_id
        return constant_id

    def constant_composite(self, type_id, constituent_ids):
        """OpConstantComposite of constant ids."""
        self._check_type(type_id, "constant_composite")
        for constituent in constituent_ids:
            if type(constituent) is not int or not self._is_defined(constituent):
                raise BuilderError(f"constant_composite: {constituent!r} is not a defined id")
        return self._constant(Op.ConstantComposite, type_id, tuple(constituent_ids))

    def constant_null(self, type_id):
        """OpConstantNull."""
        self._check_type(type_id, "constant_null")
        return self._constant(Op.ConstantNull, type_id, ())

    def spec_constant(self, type_id, default_value, spec_id):
        """A specialization constant decorated SpecId ``spec_id`` (never deduplicated)."""
        constant_id = self.new_id()
        if self._scalars.get(type_id, ("",))[0] == "bool":
            opcode = Op.SpecConstantTrue if default_value else Op.SpecConstantFalse
            self._write(self._globals, opcode, type_id, constant_id, (), encoded=True)
        else:
            words = list(self._scalar_words(type_id, default_value, "spec_constant"))
            self._write(self._globals, Op.SpecConstant, type_id, constant_id, words, encoded=True)
        self.decorate(constant_id, Decoration.SpecId, spec_id)
        return constant_id

    # -- globals, annotations, debug ------------------------------------------------------------------
    def variable(self, pointer_type_id, storage_class, initializer=None):
        """A global OpVariable; ``storage_class`` must match the pointer type's."""
        self._check_type(pointer_type_id, "variable")
        if self._pointer_storage.get(pointer_type_id) != storage_class:
            raise BuilderError(f"variable: %{pointer_type_id} is not a pointer of storage class "
                               f"{StorageClass(storage_class).name}")
        variable_id = self.new_id()
        operands = (StorageClass(storage_class),) + (() if initializer is None else (initializer,))
        self._write(self._globals, Op.Variable, pointer_type_id, variable_id, operands)
        self._global_vars[variable_id] = StorageClass(storage_class)
        return variable_id

    def _annotate(self, opcode, operands):
        words = []
        try:
            self.encoder.encode(OPCODES[opcode].operands, operands, words)
        except OperandError as exc:
            raise BuilderError(f"Op{OPCODES[opcode].name}: {exc}") from None
        key = (opcode, tuple(words))
        if key not in self._decorations_seen:  # the same decoration twice is invalid; once is what was meant
            self._decorations_seen.add(key)
            self._write(self._annotations, opcode, None, None, words, encoded=True)

    def decorate(self, target_id, decoration, *literals):
        """OpDecorate: ``m.decorate(ssbo_t, Decoration.ArrayStride, 4)``; repeated calls write it once."""
        self._annotate(Op.Decorate, (target_id, decoration, *literals))

    def member_decorate(self, struct_id, index, decoration, *literals):
        """OpMemberDecorate: ``m.member_decorate(s, 0, Decoration.Offset, 0)``."""
        self._annotate(Op.MemberDecorate, (struct_id, index, decoration, *literals))

    def name(self, target_id, text):
        """OpName (debug name)."""
        self._write(self._names, Op.Name, None, None, (target_id, str(text)))

    def member_name(self, struct_id, index, text):
        """OpMemberName."""
        self._write(self._names, Op.MemberName, None, None, (struct_id, index, str(text)))

    def source_file(self, filename, text=None):
        """OpString ``filename`` (and, with ``text``, OpSource carrying it); returns the string id that
        ``FunctionBuilder.line`` takes."""
        string_id = self.new_id()
        self._write(self._debug_sources, Op.String, None, string_id, (str(filename),))
        if text is not None:
            chunks = [text[i:i + _SOURCE_CHUNK] for i in range(0, len(text), _SOURCE_CHUNK)] or [""]
            self._write(self._debug_sources, Op.Source, None, None, (SourceLanguage.Unknown, 0, string_id, chunks[0]))
            for chunk in chunks[1:]:
                self._write(self._debug_sources, Op.SourceContinued, None, None, (chunk,))
        return string_id

    def glsl_std_450(self):
        """The id of OpExtInstImport "GLSL.std.450" (imported once)."""
        if self._glsl is None:
            self._glsl = self.new_id()
            self._write(self._imports, Op.ExtInstImport, None, self._glsl, ("GLSL.std.450",))
        return self._glsl

    def capability(self, capability):
        """Declare a capability that cannot be derived from what the module uses."""
        self._explicit_capabilities.add(capabilities.name_of(capability))

    def extension(self, name):
        """Declare an extension that cannot be derived."""
        self._explicit_extensions.add(str(name))

    # -- entry points and functions -------------------------------------------------------------------
    def entry_point(self, model, function_id, name, interface_ids=()):
        """OpEntryPoint. The interface written is, for SPIR-V < 1.4, the Input/Output variables among
        ``interface_ids``; for >= 1.4, those plus every global the entry point's call tree uses."""
        self._entry_points.append((ExecutionModel(model), function_id, str(name), tuple(interface_ids)))

    def execution_mode(self, function_id, mode, *literals):
        """OpExecutionMode: ``m.execution_mode(f.id, ExecutionMode.LocalSize, 64, 1, 1)``."""
        self._write(self._modes, Op.ExecutionMode, None, None, (function_id, mode, *literals))

    def function(self, return_type_id, param_type_ids=(), name=None, control=FunctionControl.None_):
        """Start a function; returns its ``FunctionBuilder``."""
        builder = FunctionBuilder(self, return_type_id, param_type_ids, name=name, control=control)
        self._functions.append(builder)
        return builder

    def _interface(self, function_id, given):
        if self.version < (1, 4):
            return [v for v in given if self._global_vars.get(v) in (StorageClass.Input, StorageClass.Output)]
        by_id = {f.id: f for f in self._functions}
        used, todo, seen = set(), [function_id], set()
        while todo:
            fn = by_id.get(todo.pop())
            if fn is None or fn.id in seen:
                continue
            seen.add(fn.id)
            used |= fn.globals_used
            todo.extend(fn.callees)
        ordered = [v for v in dict.fromkeys(given) if v in self._global_vars]
        return ordered + sorted(used - set(ordered))

    # -- output ---------------------------------------------------------------------------------------
    def assemble(self):
        """The module as a numpy uint32 array, sections in the spec's order, capabilities derived."""
        for fn in self._functions:
            if fn.words is None:
                raise BuilderError(f"{fn.where()} was never ended (call end())")
        entry_points = array("I")
        for model, function_id, name, given in self._entry_points:
            self._write(entry_points, Op.EntryPoint, None, None,
                        (model, function_id, name, *self._interface(function_id, given)))
        memory_model = array("I")
        self._write(memory_model, Op.MemoryModel, None, None, (AddressingModel.Logical, MemoryModel.GLSL450))
        try:
            capability_values, extensions = capabilities.derive(
                self._used_opcodes, self.encoder.used_enums,
                self._extra_capabilities | self._explicit_capabilities, self.version)
        except capabilities.CapabilityError as exc:
            raise BuilderError(str(exc)) from None
        preamble = array("I")
        for value in capability_values:
            self._write(preamble, Op.Capability, None, None, [value], encoded=True)
        for name in sorted(set(extensions) | self._explicit_extensions):
            self._write(preamble, Op.Extension, None, None, (name,))
        major, minor = self.version
        out = array("I", (MAGIC, major << 16 | minor << 8, GENERATOR, self._bound, 0))
        for section in (preamble, self._imports, memory_model, entry_points, self._modes, self._debug_sources,
                        self._names, self._annotations, self._globals):
            out.extend(section)
        for fn in self._functions:
            out.extend(fn.words)
        return np.frombuffer(out, dtype=np.uint32)

    def to_bytes(self):
        """The module's binary (little-endian words); observers in ``hooks`` see every module made."""
        data = self.assemble().astype("<u4", copy=False).tobytes()
        hooks.notify(data)
        return data
