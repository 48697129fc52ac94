"""Text form of a module, close to ``spirv-dis --raw-id``: ``%id = OpName operands``."""
import math
from enum import Enum

from .parser import parse

_HEADER = "; SPIR-V\n; Version: {v[0]}.{v[1]}\n; Generator: {g:#x}\n; Bound: {b}\n; Schema: {s}\n"
_RESULT_COLUMN = 15  # spirv-dis right-aligns "%id = " so that opcodes start in column 16


def _float_text(value, width):
    """As spirv-dis prints floats: ``%.9g`` for 32-bit, ``%.17g`` for 64-bit, C hex floats for 16-bit."""
    if math.isinf(value) or math.isnan(value):
        return float.hex(value) if math.isnan(value) else ("-" if value < 0 else "") + "0x1p+128"
    if width == 16:
        mantissa, exponent = float.hex(value).split("p")
        return mantissa.rstrip("0").rstrip(".") + "p" + exponent
    return "%.*g" % (17 if width == 64 else 9, value)


def _operand_text(operand):
    kind, value = operand.kind, operand.value
    if kind.startswith("Id"):
        return f"%{value}"
    if kind == "LiteralString":
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'  # spirv-dis escapes only these
    if isinstance(value, float):
        return _float_text(value, operand.width)
    if isinstance(value, Enum):
        return _enum_text(value)
    return str(value)


def _enum_text(value):
    if value.name is not None and "|" not in value.name:
        return value.name.rstrip("_").lstrip("_") if value.name[0] == "_" or value.name.endswith("_") else value.name
    names = [member.name for member in type(value) if member.value and member in value and
             member.value & (member.value - 1) == 0]
    return "|".join(names)


def instruction_text(instruction):
    """One instruction as text, without the alignment: ``%5 = OpIAdd %2 %3 %4``."""
    parts = [f"Op{instruction.opcode.name}"]
    if instruction.result_type is not None:
        parts.append(f"%{instruction.result_type}")
    parts.extend(_operand_text(o) for o in instruction.operands)
    text = " ".join(parts)
    return f"%{instruction.result} = {text}" if instruction.result is not None else text


def disassemble(data):
    """Disassemble a module's bytes to text like ``spirv-dis --raw-id``.

    >>> print(disassemble(m.to_bytes()))   # doctest: +SKIP
    ; SPIR-V ...
                   OpCapability Shader
    """
    module = parse(data)
    h = module.header
    lines = [_HEADER.format(v=h.version, g=h.generator, b=h.bound, s=h.schema).rstrip("\n")]
    for instruction in module.instructions:
        text = instruction_text(instruction)
        if instruction.result is not None:
            left, right = text.split(" = ", 1)
            lines.append(f"{left:>{_RESULT_COLUMN - 3}} = {right}")
        else:
            lines.append(" " * _RESULT_COLUMN + text)
    return "\n".join(lines) + "\n"
