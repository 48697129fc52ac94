"""Encoding of instruction operands into words, checked against the grammar's operand kinds.

The builder hands us the operands that follow the result type and result id, as Python values: ids are
ints, literal integers ints, strings str, enumerants their IntEnum/IntFlag (or a plain int). A value of the
wrong kind raises ``OperandError``; the builder turns it into a ``BuilderError`` naming function and block.
"""
import struct
from enum import IntEnum, IntFlag

from . import enums
from .tables import ENUMERANTS, OPERAND_KINDS

_ID_KINDS = frozenset(k for k, category in OPERAND_KINDS.items() if category == "Id")
_PAIR_KINDS = {  # Composite kinds: the two kinds they are made of, in order
    "PairLiteralIntegerIdRef": ("LiteralInteger", "IdRef"),
    "PairIdRefLiteralInteger": ("IdRef", "LiteralInteger"),
    "PairIdRefIdRef": ("IdRef", "IdRef"),
}
_ENUM_CLASSES = {name: getattr(enums, name) for name in enums.ALL}


class OperandError(Exception):
    """An operand does not match the grammar; the message says which and why."""


def string_words(text):
    """A LiteralString: UTF-8, nul-terminated, zero-padded to whole little-endian words.

    >>> string_words("main")
    [1852399981, 0]
    """
    data = text.encode("utf-8") + b"\0"
    data += b"\0" * (-len(data) % 4)
    return list(struct.unpack(f"<{len(data) // 4}I", data))


def number_words(value):
    """A LiteralContextDependentNumber given without its type: a float as an IEEE single, an int as one
    word when it fits 32 bits (two's complement for negatives), else as two words, low word first."""
    if isinstance(value, float):
        return list(struct.unpack("<I", struct.pack("<f", value)))
    if -(1 << 31) <= value < (1 << 32):
        return [value & 0xFFFFFFFF]
    return [value & 0xFFFFFFFF, (value >> 32) & 0xFFFFFFFF]


class OperandEncoder:
    """Encodes operand lists for one module; records every enumerant used (for capability derivation)."""

    def __init__(self, is_defined):
        self.is_defined = is_defined  # id -> bool: allocated by the module (defined or forward-declared)
        self.used_enums = set()       # {(kind, value)}, single bits for bit enums

    def encode(self, spec, args, words):
        """Append the words of ``args`` laid out by ``spec`` ((kind, quantifier) pairs) to ``words``."""
        args = list(args)
        position = 0
        for kind, quantifier in spec:
            if quantifier == "*":
                while position < len(args):
                    position = self._one(kind, args, position, words)
            elif position < len(args):
                position = self._one(kind, args, position, words)
            elif quantifier != "?":
                raise OperandError(f"missing operand {position + 1} ({kind})")
        if position < len(args):
            raise OperandError(f"{len(args) - position} operand(s) too many: {args[position:]!r}")

    def _one(self, kind, args, position, words):
        if position >= len(args):
            raise OperandError(f"missing operand {position + 1} ({kind})")
        value = args[position]
        if kind in _ID_KINDS:
            words.append(self.id(value, kind))
        elif kind in _PAIR_KINDS:
            for part in _PAIR_KINDS[kind]:
                position = self._one(part, args, position, words)
            return position
        elif kind == "LiteralString":
            if not isinstance(value, str):
                raise OperandError(f"operand {position + 1} must be a string ({kind}), got {value!r}")
            words.extend(string_words(value))
        elif kind == "LiteralContextDependentNumber":
            if type(value) not in (int, float):
                raise OperandError(f"operand {position + 1} must be a number ({kind}), got {value!r}")
            words.extend(number_words(value))
        elif kind.startswith("Literal"):
            if type(value) is not int:
                raise OperandError(f"operand {position + 1} must be an int ({kind}), got {value!r}")
            words.append(value & 0xFFFFFFFF)
        else:
            return self._enum(kind, args, position, words)
        return position + 1

    def id(self, value, kind="IdRef"):
        """Check one id operand and return it."""
        if type(value) is not int:
            raise OperandError(f"{kind} operand must be an int id, got {value!r}")
        if not self.is_defined(value):
            raise OperandError(f"id %{value} is not defined (allocate it with new_id() or define it first)")
        return value

    def _enum(self, kind, args, position, words):
        value = args[position]
        cls = _ENUM_CLASSES[kind]
        if not isinstance(value, int) or isinstance(value, bool) or (
                isinstance(value, (IntEnum, IntFlag)) and not isinstance(value, cls)):
            raise OperandError(f"operand {position + 1} must be a {kind}, got {value!r}")
        value = int(value)
        words.append(value)
        position += 1
        table = ENUMERANTS[kind]
        if OPERAND_KINDS[kind] == "BitEnum":
            bits = [1 << b for b in range(32) if value >> b & 1] or [0]
            for bit in bits:
                if bit not in table:
                    raise OperandError(f"{bit:#x} is not a {kind} bit")
                self.used_enums.add((kind, bit))
                for parameter in table[bit].parameters:
                    position = self._one(parameter, args, position, words)
            return position
        if value not in table:
            raise OperandError(f"{value} is not a {kind}")
        self.used_enums.add((kind, value))
        for parameter in table[value].parameters:
            position = self._one(parameter, args, position, words)
        return position
