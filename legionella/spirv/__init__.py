"""Legionella's SPIR-V emitter: generated grammar tables, a module builder, a parser and a disassembler.

The API is documented in docs/internals/spirv-builder.md. ``tables.py`` and ``enums.py`` are generated
by ``python tools/gen_spirv_tables.py``; never edit them by hand.
"""
from . import enums
from .builder import Module
from .disassembler import disassemble
from .errors import BuilderError
from .function import FunctionBuilder
from .parser import ParsedModule, parse
from .tables import GLSL, Op

__all__ = ["Module", "FunctionBuilder", "Op", "enums", "GLSL", "BuilderError", "parse", "ParsedModule",
           "disassemble"]
