"""Locals typed by a bare literal or an annotation, in the emulator's copy of kernel code.

On the device a local whose first assignment is a bare ``int`` or ``float`` literal is ``i32`` or ``f32``
for its whole life (DESIGN 2.3), and wraps or rounds as one; an annotated one (``total: i64 = 0``) has its
annotation's type. Left as a Python number in the emulator it
would do neither: ``n = 1 << 30; n * 4`` is 0 on the device and 2**32 in Python, and a ``while`` loop
meant to count past 2**31 would never end. So the emulator runs a copy of the code object in which every
literal stored straight into such a local is a numpy constant of the local's type instead
(:func:`emulated_code`). A non-literal value stored into an annotated local keeps its own type there.

Only ``LOAD_CONST literal; STORE_FAST/STORE_DEREF local`` pairs change, one instruction each (same size),
so no jump moves; a constant tuple unpacked into locals (``k, n = 0, 0``) becomes a tuple of such
constants, and a module constant stored into a local (``x = BIG``: the device folds it in as a literal)
a constant load, its ``LOAD_GLOBAL``'s inline cache entries made NOPs. A store reached by a jump (``x = 0 if c else 1``) and a literal outside the local's type are
left as they were: write ``i32(0)`` there when the local must wrap.

>>> def f():
...     n = 1 << 30
...     return n * 4
>>> import types
>>> types.FunctionType(typed_literal_code(f.__code__), {})()
0
"""
import ast
import builtins
import dis
import inspect
import sys
import textwrap
import types

import numpy as np

from ..lang.types import ScalarType, as_lang_type

_LOAD_CONST = dis.opmap["LOAD_CONST"]
_NOP = dis.opmap["NOP"]
_GLOBAL_FLAG = sys.version_info >= (3, 11)  # LOAD_GLOBAL's oparg carries a push-NULL bit from 3.11 on
_LITERAL_LOADS = {dis.opmap[name] for name in ("LOAD_CONST", "LOAD_SMALL_INT") if name in dis.opmap}
_LOCAL_STORES = {dis.opmap[name] for name in ("STORE_FAST", "STORE_DEREF")}
_DEVICE_TYPES = {int: np.int32, float: np.float32}  # a bare literal's type on the device
_MAX_ARG = 255  # one byte: a larger constant index would need an EXTENDED_ARG, changing the code's size


def emulated_code(fn):
    """The code object the emulator runs for function ``fn``: :func:`typed_literal_code` with the types of
    ``fn``'s annotated locals and the values of the module's number constants it reads."""
    return typed_literal_code(fn.__code__, annotated_locals(fn), module_constants(fn))


def module_constants(fn):
    """``{name: value}`` of the module-level ints and floats ``fn``'s code reads (``x = BIG``), which the
    device folds in as literals: a local first assigned one is i32 or f32 there too."""
    names = set()
    pending = [fn.__code__]
    while pending:
        code = pending.pop()
        names.update(code.co_names)
        pending += [c for c in code.co_consts if isinstance(c, types.CodeType)]
    return {name: fn.__globals__[name] for name in names
            if type(fn.__globals__.get(name)) in _DEVICE_TYPES}


def annotated_locals(fn):
    """``{name: numpy scalar type}`` of the ``name: T = ...`` statements in ``fn``'s body, for scalar ``T``
    (read from its source; {} when the source cannot be read or is not ``fn``'s any more)."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return {}
    definition = tree.body[0] if tree.body else None
    if not isinstance(definition, (ast.FunctionDef, ast.AsyncFunctionDef)) or definition.name != fn.__name__:
        return {}
    types_of = {}
    for node in _own_nodes(definition):
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            annotation = as_lang_type(_annotation_value(node.annotation, fn.__globals__))
            if isinstance(annotation, ScalarType):
                types_of[node.target.id] = annotation.dtype.type
    return types_of


def _own_nodes(definition):
    """The nodes of a function's body, not entering nested functions, lambdas or classes."""
    pending = list(definition.body)
    while pending:
        node = pending.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            pending.extend(ast.iter_child_nodes(node))


def _annotation_value(node, namespace):
    """The object an annotation names (``i64``, ``lang.i64``), or None for anything else."""
    if isinstance(node, ast.Name):
        return namespace.get(node.id, getattr(builtins, node.id, None))
    if isinstance(node, ast.Attribute):
        return getattr(_annotation_value(node.value, namespace), node.attr, None)
    return None


def typed_literal_code(code, annotated=None, constants=None):
    """``code`` (and the code objects nested in it) with the literals stored into literal-typed locals, and
    into the locals ``annotated`` maps to numpy scalar types, made numpy scalars of the local's type;
    ``constants`` maps module globals the code loads to their values, which count as literals there.

    Not cached: it costs far less than emulating one workgroup, and code objects that compare equal may
    come from different files."""
    annotated = annotated or {}
    instructions = list(dis.get_instructions(code))
    rebound = {i.argval for i in instructions if i.opname in ("STORE_GLOBAL", "DELETE_GLOBAL")}
    constants = {name: value for name, value in (constants or {}).items() if name not in rebound}
    consts = [typed_literal_code(c, None, constants) if isinstance(c, types.CodeType) else c
              for c in code.co_consts]
    parameters = set(code.co_varnames[:code.co_argcount + code.co_kwonlyargcount])  # typed by their caller
    first_stores = {}
    for instruction in instructions:
        if instruction.opcode in _LOCAL_STORES:
            first_stores.setdefault(instruction.argval, instruction)
    stores = _literal_stores(instructions, constants)
    typed = {store.argval: _DEVICE_TYPES[type(value)] for load, position, value, store in stores
             if first_stores[store.argval] is store and store.argval not in parameters}
    typed.update(annotated)
    co_code = bytearray(code.co_code)
    ends = {i.offset: after.offset for i, after in zip(instructions, instructions[1:])}
    for load, targets in _targets_by_load(stores).items():
        loaded = constants[load.argval] if load.opname == "LOAD_GLOBAL" else load.argval
        value = _typed_constant(loaded, targets, typed)
        if value is not None and len(consts) <= _MAX_ARG and load.arg <= _MAX_ARG:
            # LOAD_GLOBAL is followed by inline cache entries: they become NOPs, so nothing moves
            nops = (ends[load.offset] - load.offset - 2) // 2
            co_code[load.offset:ends[load.offset]] = bytes((_LOAD_CONST, len(consts))) + bytes((_NOP, 0)) * nops
            consts.append(value)
    return code.replace(co_code=bytes(co_code), co_consts=tuple(consts))


def _literal_stores(instructions, constants):
    """``(load, position, literal, store)`` for each bare literal stored straight into a local: ``x = 3``
    (position None: one load, one store), and each number of a constant tuple unpacked into locals,
    ``k, n = 0, 0`` (its position in the tuple: one load, UNPACK_SEQUENCE, a store per item)."""
    found = []
    for i, load in enumerate(instructions):
        if load.opname == "LOAD_GLOBAL" and _GLOBAL_FLAG and not load.arg & 1 and load.argval in constants:
            following = instructions[i + 1:]
            if following and _plain_store(following[0]):  # x = BIG, BIG a module constant
                found.append((load, None, constants[load.argval], following[0]))
            continue
        if load.opcode not in _LITERAL_LOADS:
            continue
        value, following = load.argval, instructions[i + 1:]
        if type(value) in _DEVICE_TYPES and following and _plain_store(following[0]):
            found.append((load, None, value, following[0]))
        elif (type(value) is tuple and len(following) > len(value) and following[0].opname == "UNPACK_SEQUENCE"
              and following[0].arg == len(value) and all(map(_plain_store, following[1:len(value) + 1]))):
            found += [(load, position, item, store) for position, (item, store) in enumerate(zip(value, following[1:]))
                      if type(item) in _DEVICE_TYPES]
    return found


def _plain_store(instruction):
    """A store into a local that no jump reaches (``x = 0 if c else 1`` joins two values there)."""
    return instruction.opcode in _LOCAL_STORES and not instruction.is_jump_target


def _targets_by_load(stores):
    """``{load: {position: local name}}`` from :func:`_literal_stores`' entries."""
    targets = {}
    for load, position, _, store in stores:
        targets.setdefault(load, {})[position] = store.argval
    return targets


def _typed_constant(value, targets, typed):
    """The constant ``value`` (a literal, or a tuple of them at the ``targets`` positions) with what is
    stored into typed locals converted to their types; None when nothing changes."""
    if type(value) is not tuple:
        return _literal(value, typed.get(targets[None]))
    items, changed = list(value), False
    for position, name in targets.items():
        item = _literal(items[position], typed.get(name))
        if item is not None:
            items[position], changed = item, True
    return tuple(items) if changed else None


def _literal(value, scalar_type):
    """The literal ``value`` as a ``scalar_type`` (a numpy scalar type), or None where there is no type or
    the value does not fit it (an int literal into a narrower integer or unsigned type)."""
    if scalar_type is None:
        return None
    if type(value) is int and issubclass(scalar_type, np.integer):
        limits = np.iinfo(scalar_type)
        if not limits.min <= value <= limits.max:
            return None
    elif type(value) is float and not issubclass(scalar_type, np.floating):
        return None
    return scalar_type(value)
