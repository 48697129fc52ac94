"""Pure-Python SPIR-V parsing: words -> ``ParsedModule`` of ``Instruction``s with decoded operands.

Operands are decoded with the grammar: ids stay ints, literal integers ints, strings str, enumerants
their enum member, context-dependent numbers (OpConstant, OpSwitch) int or float by the width and kind
of the type they belong to. ``disassemble`` renders the text ``spirv-dis --raw-id`` would.
"""
import struct
from dataclasses import dataclass, field

import numpy as np

from . import enums
from .operands import string_words
from .tables import ENUMERANTS, GLSL, OPCODES, OPERAND_KINDS, Op

MAGIC = 0x07230203
_ENUM_CLASSES = {name: getattr(enums, name) for name in enums.ALL}
_EXTENDED_SETS = {"GLSL.std.450": GLSL}  # import name -> enum of its instructions
_PAIR_KINDS = {"PairLiteralIntegerIdRef": ("LiteralInteger", "IdRef"),
               "PairIdRefLiteralInteger": ("IdRef", "LiteralInteger"),
               "PairIdRefIdRef": ("IdRef", "IdRef")}


class ParseError(ValueError):
    """The bytes are not a well-formed SPIR-V module."""


@dataclass(frozen=True)
class Header:
    """The five header words."""
    version: tuple
    generator: int
    bound: int
    schema: int


@dataclass(frozen=True)
class Operand:
    """One decoded operand: its grammar kind and its value (``width``: bits of a context-dependent number)."""
    kind: str
    value: object
    width: int = None


@dataclass
class Instruction:
    """One instruction: opcode, result type id and result id (None when absent), decoded operands."""
    opcode: Op
    result_type: object
    result: object
    operands: list = field(default_factory=list)


@dataclass
class ParsedModule:
    """A parsed module: header and instructions in order."""
    header: Header
    instructions: list

    def words(self):
        """Encode the module back into a numpy uint32 array (``parse(data).words()`` gives ``data``'s words)."""
        h = self.header
        out = [MAGIC, h.version[0] << 16 | h.version[1] << 8, h.generator, h.bound, h.schema]
        for instruction in self.instructions:
            words = [w for w in (instruction.result_type, instruction.result) if w is not None]
            for operand in instruction.operands:
                words.extend(_operand_words(operand))
            out.append((len(words) + 1) << 16 | instruction.opcode)
            out.extend(words)
        return np.array(out, dtype=np.uint32)


_FLOAT_FORMATS = {16: ("<e", "<H"), 32: ("<f", "<I"), 64: ("<d", "<Q")}


def _operand_words(operand):
    if operand.kind == "LiteralString":
        return string_words(operand.value)
    if operand.width is None:
        return [int(operand.value) & 0xFFFFFFFF]
    if isinstance(operand.value, float):
        float_format, int_format = _FLOAT_FORMATS[operand.width]
        bits = struct.unpack(int_format, struct.pack(float_format, operand.value))[0]
    else:
        bits = operand.value & ((1 << operand.width) - 1)
        if operand.value < 0 and operand.width < 32:  # narrow negatives are sign-extended to the word
            bits |= 0xFFFFFFFF & ~((1 << operand.width) - 1)
    return [bits & 0xFFFFFFFF, bits >> 32] if operand.width == 64 else [bits & 0xFFFFFFFF]


def _words_of(data):
    if isinstance(data, np.ndarray):
        return [int(w) for w in data.astype(np.uint32)]
    data = bytes(data)
    if len(data) % 4 or len(data) < 20:
        raise ParseError(f"a SPIR-V module is a whole number of words, at least 5; got {len(data)} bytes")
    for order in "<>":
        words = struct.unpack(f"{order}{len(data) // 4}I", data)
        if words[0] == MAGIC:
            return list(words)
    raise ParseError("not SPIR-V: bad magic number")


class _Decoder:
    """Decodes the operands of one instruction, knowing the scalar types seen so far."""

    def __init__(self):
        self.scalars = {}      # type id -> ("int"|"float", width, signed)
        self.value_types = {}  # id -> type id (for OpSwitch selectors)
        self.extended_sets = {}  # OpExtInstImport id -> enum of its instructions

    def decode(self, opcode, words):
        info = OPCODES.get(opcode)
        if info is None:
            raise ParseError(f"unknown opcode {opcode}")
        position = 0
        result_type = result = None
        if info.has_result_type:
            result_type, position = words[0], 1
        if info.has_result:
            result, position = words[position], position + 1
        self.context = self.scalars.get(result_type)
        if opcode == Op.Switch and words:
            self.context = self.scalars.get(self.value_types.get(words[0]))
        operands = []
        for kind, quantifier in info.operands:
            if quantifier == "*":
                while position < len(words):
                    position = self._one(kind, words, position, operands)
            elif position < len(words):
                position = self._one(kind, words, position, operands)
            elif quantifier == "":
                raise ParseError(f"Op{info.name}: missing operand {kind}")
        if position != len(words):
            raise ParseError(f"Op{info.name}: {len(words) - position} unexpected word(s)")
        self._learn(opcode, result_type, result, operands)
        return Instruction(Op(opcode), result_type, result, operands)

    def _learn(self, opcode, result_type, result, operands):
        if opcode == Op.ExtInstImport:
            self.extended_sets[result] = _EXTENDED_SETS.get(operands[0].value)
        elif opcode == Op.ExtInst and self.extended_sets.get(operands[0].value) is not None:
            number = operands[1].value
            instruction_set = self.extended_sets[operands[0].value]
            if number in instruction_set._value2member_map_:
                operands[1] = Operand(operands[1].kind, instruction_set(number))
        elif opcode == Op.TypeInt:
            self.scalars[result] = ("int", operands[0].value, bool(operands[1].value))
        elif opcode == Op.TypeFloat:
            self.scalars[result] = ("float", operands[0].value, True)
        if result is not None and result_type is not None:
            self.value_types[result] = result_type

    def _one(self, kind, words, position, operands):
        category = OPERAND_KINDS[kind]
        if kind in _PAIR_KINDS:
            for part in _PAIR_KINDS[kind]:
                position = self._one(part, words, position, operands)
            return position
        if position >= len(words):
            raise ParseError(f"operand {kind} runs past the end of its instruction")
        if category == "Id" or kind in ("LiteralInteger", "LiteralExtInstInteger", "LiteralSpecConstantOpInteger"):
            operands.append(Operand(kind, words[position]))
            return position + 1
        if kind == "LiteralString":
            end = position
            while end < len(words) and words[end] >> 24:
                end += 1
            raw = struct.pack(f"<{end + 1 - position}I", *words[position:end + 1])
            operands.append(Operand(kind, raw.split(b"\0", 1)[0].decode("utf-8")))
            return end + 1
        if kind == "LiteralContextDependentNumber":
            return self._number(words, position, operands)
        return self._enum(kind, words, position, operands)

    def _number(self, words, position, operands):
        kind, width, signed = self.context or ("int", 32, False)
        count = 2 if width == 64 else 1
        raw = words[position:position + count]
        bits = raw[0] | (raw[1] << 32 if count == 2 else 0)
        if kind == "float":
            value = {16: lambda: struct.unpack("<e", struct.pack("<H", bits & 0xFFFF))[0],
                     32: lambda: struct.unpack("<f", struct.pack("<I", bits))[0],
                     64: lambda: struct.unpack("<d", struct.pack("<Q", bits))[0]}[width]()
        else:
            bits &= (1 << width) - 1
            value = bits - (1 << width) if signed and bits >> (width - 1) else bits
        operands.append(Operand("LiteralContextDependentNumber", value, width))
        return position + count

    def _enum(self, kind, words, position, operands):
        cls = _ENUM_CLASSES[kind]
        value = words[position]
        operands.append(Operand(kind, cls(value)))
        position += 1
        table = ENUMERANTS[kind]
        if OPERAND_KINDS[kind] == "BitEnum":
            bits = [1 << b for b in range(32) if value >> b & 1]
        else:
            bits = [value]
        for bit in bits:
            for parameter in table[bit].parameters if bit in table else ():
                position = self._one(parameter, words, position, operands)
        return position


def parse(data):
    """Parse a module (bytes in either byte order, or a uint32 array) into a ``ParsedModule``.

    >>> from legionella.spirv import Module
    >>> m = Module(); _ = m.type_float(32)
    >>> [i.opcode.name for i in parse(m.assemble()).instructions]
    ['Capability', 'MemoryModel', 'TypeFloat']
    """
    words = _words_of(data)
    if len(words) < 5 or words[0] != MAGIC:
        raise ParseError("not SPIR-V: bad magic number or no header")
    header = Header(((words[1] >> 16) & 0xFF, (words[1] >> 8) & 0xFF), words[2], words[3], words[4])
    decoder = _Decoder()
    instructions = []
    position = 5
    while position < len(words):
        count, opcode = words[position] >> 16, words[position] & 0xFFFF
        if count == 0 or position + count > len(words):
            raise ParseError(f"instruction at word {position} has a bad word count {count}")
        instructions.append(decoder.decode(opcode, words[position + 1:position + count]))
        position += count
    return ParsedModule(header, instructions)
