"""Locals typed by a bare literal, in the emulator's copy of kernel code.

On the device a local whose first assignment is a bare ``int`` or ``float`` literal is ``i32`` or ``f32``
for its whole life (DESIGN 2.3), and wraps or rounds as one. Left as a Python number in the emulator it
would do neither: ``n = 1 << 30; n * 4`` is 0 on the device and 2**32 in Python, and a ``while`` loop
meant to count past 2**31 would never end. So the emulator runs a copy of the code object in which every
literal stored straight into such a local is a numpy ``int32`` or ``float32`` constant instead.

Only ``LOAD_CONST literal; STORE_FAST/STORE_DEREF local`` pairs change, one instruction each (same size),
so no jump moves. A store reached by a jump (``x = 0 if c else 1``), a tuple assignment (``k, n = 0, 0``)
and a literal outside ``i32`` are left as they were: write ``i32(0)`` there when the local must wrap.

>>> def f():
...     n = 1 << 30
...     return n * 4
>>> import types
>>> types.FunctionType(typed_literal_code(f.__code__), {})()
0
"""
import dis
import types

import numpy as np

_LOAD_CONST = dis.opmap["LOAD_CONST"]
_LITERAL_LOADS = {dis.opmap[name] for name in ("LOAD_CONST", "LOAD_SMALL_INT") if name in dis.opmap}
_LOCAL_STORES = {dis.opmap[name] for name in ("STORE_FAST", "STORE_DEREF")}
_DEVICE_TYPES = {int: np.int32, float: np.float32}  # a bare literal's type on the device
_MAX_ARG = 255  # one byte: a larger constant index would need an EXTENDED_ARG, changing the code's size


def typed_literal_code(code):
    """``code`` (and the code objects nested in it) with literal-typed locals stored as numpy scalars.

    Not cached: it costs far less than emulating one workgroup, and code objects that compare equal may
    come from different files."""
    consts = [typed_literal_code(c) if isinstance(c, types.CodeType) else c for c in code.co_consts]
    instructions = list(dis.get_instructions(code))
    parameters = set(code.co_varnames[:code.co_argcount + code.co_kwonlyargcount])  # typed by their caller
    first_stores = {}
    for instruction in instructions:
        if instruction.opcode in _LOCAL_STORES:
            first_stores.setdefault(instruction.argval, instruction)
    stores = [(load, store) for load, store in zip(instructions, instructions[1:])
              if store.opcode in _LOCAL_STORES and _literal(load) is not None and not store.is_jump_target]
    typed = {store.argval for load, store in stores
             if first_stores[store.argval] is store and store.argval not in parameters}
    co_code = bytearray(code.co_code)
    for load, store in stores:
        value = _literal(load)
        if store.argval in typed and len(consts) <= _MAX_ARG and load.arg <= _MAX_ARG:
            co_code[load.offset:load.offset + 2] = bytes((_LOAD_CONST, len(consts)))
            consts.append(value)
    return code.replace(co_code=bytes(co_code), co_consts=tuple(consts))


def _literal(load):
    """The numpy value of the bare literal ``load`` pushes, or None when it pushes something else."""
    if load.opcode not in _LITERAL_LOADS or type(load.argval) not in _DEVICE_TYPES:
        return None
    if type(load.argval) is int and not -2**31 <= load.argval < 2**31:
        return None
    return _DEVICE_TYPES[type(load.argval)](load.argval)
