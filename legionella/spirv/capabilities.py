"""Derive the OpCapability and OpExtension set a module needs from what it uses.

Inputs are the opcodes emitted, the enumerants used ((kind, value) pairs recorded by the operand
encoder) and capabilities that the grammar does not attach to an instruction (scalar widths, 16-bit
storage). The grammar lists, for each opcode and enumerant, capabilities of which any one enables it;
we choose one a compute shader can have (never Kernel or what only Kernel implies), preferring one
already needed. The result is minimal: a capability implied by another declared one (Shader implies
Matrix) is left out, since declaring a capability implicitly declares those it depends on.
"""
from .enums import Capability
from .tables import ENUMERANTS, OPCODES, Op

_CAPABILITY = ENUMERANTS["Capability"]
_BY_NAME = {name: member.value for name, member in Capability.__members__.items()}  # aliases included


class CapabilityError(Exception):
    """Something used needs a newer SPIR-V version and no extension provides it."""


def _implied(name):
    """Capabilities implicitly declared by declaring ``name`` (its dependencies, transitively)."""
    out, todo = set(), [name]
    while todo:
        for dep in _CAPABILITY[_BY_NAME[todo.pop()]].capabilities:
            if dep not in out:
                out.add(dep)
                todo.append(dep)
    return out


_KERNEL_ONLY = frozenset(name for name in _BY_NAME if name == "Kernel" or "Kernel" in _implied(name))


def _closure(names):
    out = set(names)
    for name in names:
        out |= _implied(name)
    return out


# Capabilities that depend on the result type of an instruction, which the grammar cannot say:
# opcode -> {(scalar kind, width): capability}.
_FLOAT_ADD = {("float", w): f"AtomicFloat{w}AddEXT" for w in (16, 32, 64)}
_FLOAT_MIN_MAX = {("float", w): f"AtomicFloat{w}MinMaxEXT" for w in (16, 32, 64)}
_INT64_ATOMIC = {("int", 64): "Int64Atomics"}
BY_RESULT_TYPE = {
    Op.AtomicFAddEXT: _FLOAT_ADD, Op.AtomicFMinEXT: _FLOAT_MIN_MAX, Op.AtomicFMaxEXT: _FLOAT_MIN_MAX,
    **{op: _INT64_ATOMIC for op in (Op.AtomicLoad, Op.AtomicExchange, Op.AtomicCompareExchange, Op.AtomicIIncrement,
                                    Op.AtomicIDecrement, Op.AtomicIAdd, Op.AtomicISub, Op.AtomicSMin, Op.AtomicUMin,
                                    Op.AtomicSMax, Op.AtomicUMax, Op.AtomicAnd, Op.AtomicOr, Op.AtomicXor)},
}


def _requirements(used_opcodes, used_enums):
    """Yield (what, info) for every used item that carries capability/extension/version facts."""
    for opcode in used_opcodes:
        yield f"Op{OPCODES[opcode].name}", OPCODES[opcode]
    for kind, value in used_enums:
        yield f"{kind}.{ENUMERANTS[kind][value].name}", ENUMERANTS[kind][value]


def derive(used_opcodes, used_enums, extra_capabilities, version):
    """Return (capability values sorted, extension names sorted) for a module of SPIR-V ``version``.

    ``extra_capabilities``: capability names needed for reasons outside the grammar, or asked for
    explicitly. Raises CapabilityError when an item is newer than ``version`` and has no extension.
    """
    items = list(_requirements(used_opcodes, used_enums))
    needed = set(extra_capabilities)
    choices = []
    for _, info in items:
        options = [c for c in info.capabilities if c not in _KERNEL_ONLY]
        if len(options) == 1:
            needed.add(options[0])
        elif options:
            choices.append(options)
    for options in choices:
        if not _closure(needed).intersection(options):
            needed.add(options[0])
    needed = {_CAPABILITY[_BY_NAME[c]].name for c in needed}  # aliases to their canonical spelling
    minimal = {c for c in needed if not any(c in _implied(other) for other in needed if other != c)}
    capability_items = [(f"Capability.{c}", _CAPABILITY[_BY_NAME[c]]) for c in sorted(minimal)]
    extensions = set()
    for what, info in items + capability_items:
        if info.version is not None and info.version <= version:
            continue
        if not info.extensions:
            if info.version is None:  # extension-only, and the extension comes with its capability
                continue
            raise CapabilityError(f"{what} needs SPIR-V {info.version[0]}.{info.version[1]}; "
                                  f"the module is {version[0]}.{version[1]}")
        extensions.add(info.extensions[0])
    return sorted(_BY_NAME[c] for c in minimal), sorted(extensions)


def name_of(capability):
    """A capability's grammar name from its enum member, value or name."""
    if isinstance(capability, str):
        if capability not in _BY_NAME:
            raise ValueError(f"unknown capability {capability!r}")
        return capability
    return _CAPABILITY[int(capability)].name
