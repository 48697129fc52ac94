"""Finding a kernel's source, the functions it reaches and the module constants it reads.

Names in a kernel resolve like Python resolves them when the function runs: closure cells, then the
defining module's globals, then builtins; ``mod.helper`` and ``mod.CONST`` resolve through module
attributes. :func:`closure` walks that graph from the source alone (no type checking, no codegen), which
is what :func:`dependency_hash` (the disk-cache key) and :func:`choose_workgroup` need.
"""
import ast
import builtins
import hashlib
import inspect
import linecache
import textwrap
import types

import numpy as np

from ..errors import CompileError
from ..lang.binding import BindingDecl
from .ir import Loc

COMPILER_VERSION = "1"  # bump when the generated code changes for the same source


class Source:
    """A function's parsed definition plus what is needed to map AST positions to the user's file."""

    def __init__(self, tree, filename, line_offset, col_offset, lines, fn):
        self.tree = tree
        self.filename = filename
        self.line_offset = line_offset
        self.col_offset = col_offset
        self.lines = lines
        self.fn = fn
        self.text = "\n".join(lines)
        self._nodes = None

    @property
    def name(self):
        """The function's name."""
        return self.tree.name

    @property
    def nodes(self):
        """Every AST node of the definition (computed once: several analyses walk it)."""
        if self._nodes is None:
            self._nodes = list(ast.walk(self.tree))
        return self._nodes

    def loc(self, node):
        """The :class:`Loc` of an AST node in the user's file (columns 1-based)."""
        return Loc(self.filename, node.lineno + self.line_offset, node.col_offset + self.col_offset + 1)

    def line_text(self, line):
        """The text of file line ``line``, as written (indentation restored)."""
        index = line - self.line_offset - 1
        if 0 <= index < len(self.lines):
            return " " * self.col_offset + self.lines[index]
        return None

    def lookup(self, name):
        """The object ``name`` refers to inside this function, or raise ``KeyError``."""
        fn = self.fn
        if fn.__closure__:
            cells = dict(zip(fn.__code__.co_freevars, fn.__closure__))
            if name in cells:
                try:
                    return cells[name].cell_contents
                except ValueError:
                    raise KeyError(name) from None
        if name in fn.__globals__:
            return fn.__globals__[name]
        return getattr(builtins, name) if hasattr(builtins, name) else _missing(name)


def _missing(name):
    raise KeyError(name)


_sources = {}


def _parse(text, filename, first_line, fn):
    """Parse a (possibly indented) definition; positions map back to ``filename`` from ``first_line``."""
    dedented = textwrap.dedent(text)
    first = dedented.splitlines()[0] if dedented.strip() else ""
    original = linecache.getline(filename, first_line)
    indent = 0  # how far the file's text is indented beyond the dedented text we parse
    if original.strip() and original.strip() == first.strip():
        indent = (len(original) - len(original.lstrip())) - (len(first) - len(first.lstrip()))
    module = ast.parse(dedented, filename=filename)
    defs = [n for n in module.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    if not defs:
        raise CompileError(f"cannot find a function definition in the source of {fn.__qualname__}",
                           filename=filename, lineno=first_line)
    return Source(defs[0], filename, first_line - 1, max(indent, 0), dedented.splitlines(), fn)


def kernel_source(kernel):
    """The :class:`Source` of a kernel stub (its source snapshot, not the file as it is now)."""
    key = ("kernel", kernel.py_func, kernel.source)  # functions hash by identity; code objects by value
    if key not in _sources:
        _sources[key] = _parse(kernel.source, kernel.filename, kernel.lineno, kernel.py_func)
    return _sources[key]


def function_source(fn):
    """The :class:`Source` of a plain Python function used as a helper; cached per function object (not
    per code object: equal code in two modules must still look names up in its own module)."""
    key = ("function", fn)
    if key not in _sources:
        try:
            text = inspect.getsource(fn)
        except (OSError, TypeError):
            raise CompileError(f"cannot read the source of function {fn.__qualname__!r}; helpers must be "
                               "defined in a file") from None
        _sources[key] = _parse(text, fn.__code__.co_filename, fn.__code__.co_firstlineno, fn)
    return _sources[key]


def helper_function(obj):
    """The plain Python function behind ``obj`` when it can be compiled as a helper, else None."""
    from ..kernel import Kernel
    if isinstance(obj, Kernel):
        return obj.py_func
    if isinstance(obj, types.FunctionType) and not obj.__module__.startswith("legionella."):
        return obj
    return None


def constant_value(obj):
    """``obj`` as a foldable constant (Python or numpy scalar), else None."""
    if isinstance(obj, (bool, int, float, np.generic)) and not isinstance(obj, np.void):
        return obj
    return None


def resolve_attribute(base, attr):
    """``base.attr`` for a module or a namespace-like object, or raise ``KeyError``."""
    if isinstance(base, types.ModuleType) and hasattr(base, attr):
        return getattr(base, attr)
    raise KeyError(attr)


def _referenced_names(src):
    """Names (and dotted module attribute chains) read anywhere in a function."""
    for node in src.nodes:
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            yield node.value.id, node.attr
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            yield node.id, None


def closure(kernel):
    """The kernel's :class:`Source` and every helper's, in discovery order, plus the constants read:
    ``(sources, constants)`` with constants a sorted list of ``(qualified name, repr)``."""
    sources = [kernel_source(kernel)]
    seen = {kernel.py_func}
    constants = set()
    for src in sources:  # grows while iterating: a breadth-first walk
        for name, attr in _referenced_names(src):
            try:
                obj = src.lookup(name)
                if attr is not None and isinstance(obj, types.ModuleType):
                    name, obj = f"{name}.{attr}", resolve_attribute(obj, attr)
            except KeyError:
                continue
            fn = helper_function(obj)
            if fn is not None and fn not in seen:
                seen.add(fn)
                sources.append(function_source(fn))
            elif constant_value(obj) is not None or (isinstance(obj, tuple) and all(
                    constant_value(v) is not None for v in obj)):
                constants.add((f"{src.fn.__module__}:{name}", repr(obj)))
            elif isinstance(obj, BindingDecl):  # its set, binding and type are compiled in
                constants.add((f"{src.fn.__module__}:{name}", f"binding({obj.set}, {obj.binding}, {obj.type.name})"))
    return sources, sorted(constants)


def dependency_hash(kernel):
    """A hex digest over the kernel's source, every function it reaches, the module constants it reads
    and the compiler version: the disk-cache key part that changes when any of them changes.

    >>> dependency_hash(saxpy)  # doctest: +SKIP
    '3f2a...'
    """
    sources, constants = closure(kernel)
    digest = hashlib.sha256(COMPILER_VERSION.encode())
    digest.update(repr(sorted(kernel.options.items())).encode())
    for src in sources:
        digest.update(f"{src.fn.__module__}:{src.fn.__qualname__}\n{src.text}\n".encode())
    for name, value in constants:
        digest.update(f"{name}={value}\n".encode())
    return digest.hexdigest()


_ID_FUNCTIONS = ("global_id", "local_id")
_COMPONENTS = {"x": 0, "y": 1, "z": 2, "r": 0, "g": 1, "b": 2}
DEFAULT_WORKGROUPS = {1: (256, 1, 1), 2: (16, 16, 1), 3: (8, 8, 4)}


def _id_call(node, src, id_names):
    """Whether ``node`` is a call of global_id()/local_id() or a name bound to one."""
    from ..lang import intrinsics
    if isinstance(node, ast.Name):
        return node.id in id_names
    if isinstance(node, ast.Call):
        func = node.func
        try:
            obj = src.lookup(func.id) if isinstance(func, ast.Name) else (
                resolve_attribute(src.lookup(func.value.id), func.attr)
                if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else None)
        except KeyError:
            return False
        return any(obj is getattr(intrinsics, n) for n in _ID_FUNCTIONS)
    return False


def _dimensions_used(src):
    """The number of id components (1 to 3) a function's source reads from global_id()/local_id()."""
    id_names = {t.id for n in src.nodes if isinstance(n, ast.Assign) and isinstance(n.value, ast.Call)
                and _id_call(n.value, src, ()) for t in n.targets if isinstance(t, ast.Name)}
    dims = 1
    for node in src.nodes:
        if isinstance(node, ast.Attribute) and _id_call(node.value, src, id_names):
            comps = [_COMPONENTS.get(c, 0) for c in node.attr]
            dims = max(dims, max(comps) + 1)
        elif isinstance(node, ast.Subscript) and _id_call(node.value, src, id_names):
            if isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, int):
                dims = max(dims, min(node.slice.value, 2) + 1)
        elif isinstance(node, ast.Assign) and _id_call(node.value, src, id_names):
            for t in node.targets:
                if isinstance(t, ast.Tuple):
                    dims = max(dims, min(len(t.elts), 3))
    return dims


def choose_workgroup(kernel):
    """The kernel's workgroup as 3 ints: the marker's, else 256, (16, 16) or (8, 8, 4) by the highest
    ``global_id()``/``local_id()`` component its source (and its helpers') uses.

    >>> choose_workgroup(saxpy)  # doctest: +SKIP
    (256, 1, 1)
    """
    if kernel.workgroup is not None:
        return tuple(kernel.workgroup) + (1,) * (3 - len(kernel.workgroup))
    sources, _ = closure(kernel)
    return DEFAULT_WORKGROUPS[max(_dimensions_used(src) for src in sources)]
