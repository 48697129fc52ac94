"""Property: any scalar constant the builder accepts parses back to the same value and the same words."""
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from legionella.spirv import Module, Op, parse
from legionella.spirv.parser import ParseError

INT_TYPES = [(w, s) for w in (8, 16, 32, 64) for s in (True, False)]
FLOAT_WIDTHS = {16: "<e", 32: "<f", 64: "<d"}


def int_values(width, signed):
    low, high = (-(1 << (width - 1)), (1 << (width - 1)) - 1) if signed else (0, (1 << width) - 1)
    return st.integers(low, high)


def float_values(width):
    return st.floats(allow_nan=False, width=width)


constants = st.one_of(
    *[int_values(w, s).map(lambda v, w=w, s=s: ("int", w, s, v)) for w, s in INT_TYPES],
    *[float_values(w).map(lambda v, w=w: ("float", w, True, v)) for w in FLOAT_WIDTHS],
)


@settings(max_examples=200, deadline=None)
@given(st.lists(constants, min_size=1, max_size=20))
def test_constants_round_trip(values):
    m = Module()
    made = []
    for kind, width, signed, value in values:
        type_id = m.type_int(width, signed) if kind == "int" else m.type_float(width)
        made.append((m.constant(type_id, value), value))
    words = m.assemble()
    parsed = parse(words)
    assert np.array_equal(parsed.words(), words)
    by_id = {i.result: i.operands[0].value for i in parsed.instructions if i.opcode == Op.Constant}
    for constant_id, value in made:
        assert by_id[constant_id] == value  # hypothesis floats of a width are exact at that width


@pytest.mark.parametrize("data, message", [
    (b"\x03\x02\x23", "whole number of words"),
    (b"\0" * 20, "bad magic"),
    (struct.pack("<6I", 0x07230203, 0x10300, 0, 5, 0, (9 << 16) | 17), "bad word count"),
    (struct.pack("<6I", 0x07230203, 0x10300, 0, 5, 0, (1 << 16) | 17), "missing operand"),
])
def test_malformed_input_is_refused(data, message):
    with pytest.raises(ParseError, match=message):
        parse(data)
