"""The AST rewrite: attach each marker to the statement below it and bind marked names to Legionella objects.

For a kernel marker above ``def saxpy(...)`` the rewrite adds, right after the definition::

    saxpy = @legionella_Kernel(saxpy, source, options, lineno, qualname)   # all but saxpy constants

(``@legionella_decorated_kernel(saxpy, ..., __file__)`` when the def has decorators: it unwraps what they
return, see :func:`legionella.kernel.decorated_kernel`), and for a binding marker above ``NAME = Buffer[T]``
it replaces the value::

    NAME = @legionella_BindingDecl(Buffer[T], name='NAME', module=__name__, ...)

``@legionella_Kernel`` and ``@legionella_BindingDecl`` are imported at the top under those names; the ``@``
makes them names no Python source can spell, so they never clash with the user's. (``from m import C as
alias`` rather than ``import m as alias``: ``legionella.kernel`` the attribute is the decorator, which
shadows the submodule of the same name.) Invariants:

* every synthesised node carries the location of the statement it belongs to, so line numbers in
  tracebacks, ``inspect`` and coverage are those of the original source (no line shifts: nothing is
  re-parsed from text);
* the rewrite depends only on the source bytes and has no side effects of its own (nothing is registered
  here), so code loaded from the cache behaves exactly like code rewritten now.
"""
import ast
import dataclasses
import textwrap
from importlib.util import decode_source

from ..errors import MarkerError
from .markers import find_markers

KERNEL_ALIAS = "@legionella_Kernel"
DECORATED_KERNEL_ALIAS = "@legionella_decorated_kernel"
BINDING_ALIAS = "@legionella_BindingDecl"
IMPORTS = {KERNEL_ALIAS: ("legionella.kernel", "Kernel"),
           DECORATED_KERNEL_ALIAS: ("legionella.kernel", "decorated_kernel"),
           BINDING_ALIAS: ("legionella.lang.binding", "BindingDecl")}
BUFFER_FACTORIES = ("Buffer", "Uniform")


@dataclasses.dataclass
class Statement:
    """A statement of the module with where it sits: the body list holding it and its qualname prefix."""
    node: ast.stmt
    body: list
    prefix: str
    module_level: bool


def compile_module(source, filename):
    """Compile ``source`` (bytes) to a code object, rewritten when it holds markers.

    A ``SyntaxError`` is Python's own, with the right line; a bad marker is a :class:`MarkerError`."""
    tree = ast.parse(source, filename=filename)
    markers = find_markers(source, filename)
    if markers:
        lines = source_lines(source)
        tree = rewrite(tree, markers, lines, filename)
    return compile(tree, filename, "exec", dont_inherit=True)


def source_lines(source):
    """The decoded lines of ``source`` (PEP 263 and BOM aware), without line ends.

    Split on newlines only: ``str.splitlines`` would also split at form feeds and other characters that
    Python's parser does not count as line ends, and line numbers would drift."""
    return decode_source(source).split("\n")


def rewrite(tree, markers, lines, filename):
    """Return ``tree`` with every marked statement rewritten (the tree is changed in place).

    ``lines`` are the decoded source lines, used to find what each marker stands above and to take the
    kernel's source snapshot."""
    starts = index_statements(tree)
    marked = {}
    for marker in markers:
        statement = marked_statement(marker, starts, lines, filename)
        other = marked.get(id(statement.node))
        if other is not None:
            raise MarkerError(f"this statement is already marked at line {other[0].lineno}; one marker per "
                              "definition", filename=filename, lineno=marker.lineno)
        marked[id(statement.node)] = (marker, statement)
    check_binding_clashes([m for m, _ in marked.values() if m.kind == "binding"], filename)
    insertions, used = [], set()
    for marker, statement in marked.values():
        if marker.kind == "kernel":
            stub = kernel_stub(statement, marker, lines)
            insertions.append((statement, stub))
            used.add(stub.value.func.id)
        else:
            statement.node.value = binding_decl(statement.node, marker)
            used.add(BINDING_ALIAS)
    for statement, new in sorted(insertions, key=lambda item: -item[0].node.lineno):
        statement.body.insert(statement.body.index(statement.node) + 1, new)
    insert_imports(tree, [alias for alias in IMPORTS if alias in used])
    return tree


def index_statements(tree):
    """Map each line where a statement starts (a decorator line counts too) to its :class:`Statement`."""
    starts = {}

    def visit(body, prefix, module_level):
        for node in body:
            statement = Statement(node, body, prefix, module_level)
            for line in [node.lineno] + [d.lineno for d in getattr(node, "decorator_list", ())]:
                starts.setdefault(line, statement)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                visit(node.body, f"{prefix}{node.name}.<locals>.", False)
            elif isinstance(node, ast.ClassDef):
                visit(node.body, f"{prefix}{node.name}.", False)
            else:
                for child in child_bodies(node):
                    visit(child, prefix, module_level)

    visit(tree.body, "", True)
    return starts


def child_bodies(node):
    """The statement lists nested in a compound statement (if/for/while/with/try/match)."""
    for _, value in ast.iter_fields(node):
        if isinstance(value, list) and value:
            if isinstance(value[0], ast.stmt):
                yield value
            elif isinstance(value[0], (ast.excepthandler, ast.match_case)):
                for clause in value:
                    yield clause.body


def marked_statement(marker, starts, lines, filename):
    """The statement ``marker`` stands above (comments and decorators may stand between), checked against
    what the marker's kind can mark."""
    line = marker.lineno + 1
    while line <= len(lines) and lines[line - 1].lstrip().startswith("#"):
        line += 1
    statement = starts.get(line)
    if statement is None:
        at_end = not any(text.strip() for text in lines[line - 1:])
        below = "the end of the file" if at_end else (
            "a blank line" if not lines[line - 1].strip() else f"line {line}, which starts no statement")
        raise MarkerError(f"this {marker.kind} marker marks nothing: it is followed by {below}; put it directly "
                          f"above {WHAT_IT_MARKS[marker.kind]}", filename=filename, lineno=marker.lineno)
    CHECKS[marker.kind](statement, marker, filename)
    return statement


WHAT_IT_MARKS = {
    "kernel": "a def (decorators and comments may stand between)",
    "binding": "a module-level declaration NAME = Buffer[T] or NAME = Uniform[T]",
}


def check_kernel_target(statement, marker, filename):
    node = statement.node
    if isinstance(node, ast.AsyncFunctionDef):
        raise MarkerError(f"a kernel cannot be an async def ({node.name!r}); use a plain def",
                          filename=filename, lineno=marker.lineno)
    if not isinstance(node, ast.FunctionDef):
        raise MarkerError(f"a kernel marker must stand above a def, not a {type(node).__name__} statement; put "
                          f"it directly above {WHAT_IT_MARKS['kernel']}", filename=filename, lineno=marker.lineno)


def check_binding_target(statement, marker, filename):
    node = statement.node
    if not (statement.module_level and is_buffer_declaration(node)):
        raise MarkerError(f"a binding marker must stand above {WHAT_IT_MARKS['binding']}; line {node.lineno} "
                          "is not one", filename=filename, lineno=marker.lineno)


CHECKS = {"kernel": check_kernel_target, "binding": check_binding_target}


def is_buffer_declaration(node):
    """``NAME = Buffer[...]`` or ``NAME = Uniform[...]`` (also spelt ``lang.Buffer[...]``)."""
    if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.Subscript)):
        return False
    factory = node.value.value
    name = factory.id if isinstance(factory, ast.Name) else getattr(factory, "attr", None)
    return name in BUFFER_FACTORIES


def check_binding_clashes(markers, filename):
    """Two declarations in one file on the same (set, binding): an error naming both lines.

    (Clashes across modules are found when the declarations run: see ``legionella.lang.binding``.)"""
    seen = {}
    for marker in sorted(markers, key=lambda m: m.lineno):
        key = (marker.options["set"], marker.options["binding"])
        if key in seen:
            raise MarkerError(f"set={key[0]} binding={key[1]} is already declared at line {seen[key]}; one "
                              "declaration per binding (give this one other numbers)",
                              filename=filename, lineno=marker.lineno)
        seen[key] = marker.lineno


def kernel_stub(statement, marker, lines):
    """``name = @legionella_Kernel(name, source, options, lineno, qualname)``, located on the ``def`` line.

    Everything but the function is a constant folded in here (the options were checked when the marker
    was parsed), and the arguments are positional: this call runs for every kernel at every import, and a
    positional call is the cheapest one (``Kernel.__init__`` reads nothing else at import). A decorated
    def gets ``@legionella_decorated_kernel(..., __file__)`` instead, which unwraps what the decorators
    returned (or names the file in its error): only those pay for the check."""
    node = statement.node
    first, source = definition_source(node, lines)
    args = [ast.Name(node.name, ast.Load()), ast.Constant(source), literal_node(marker.options),
            ast.Constant(first), ast.Constant(statement.prefix + node.name)]
    factory = KERNEL_ALIAS
    if node.decorator_list:
        factory = DECORATED_KERNEL_ALIAS
        args.append(ast.Name("__file__", ast.Load()))
    call = ast.Call(func=ast.Name(factory, ast.Load()), args=args, keywords=[])
    return located(ast.Assign([ast.Name(node.name, ast.Store())], call), first_line_of(node))


def definition_source(node, lines):
    """``(first_line, text)``: the source snapshot of a def, decorators included, dedented."""
    first = min([node.lineno] + [d.lineno for d in node.decorator_list])
    return first, textwrap.dedent("\n".join(lines[first - 1:node.end_lineno]) + "\n")


def marked_statements(source, filename):
    """``(statement, marker, lines)`` for every marker of ``source`` (bytes), checked like an import would."""
    tree = ast.parse(source, filename=filename)
    lines = source_lines(source)
    starts = index_statements(tree)
    markers = find_markers(source, filename)
    check_binding_clashes([m for m in markers if m.kind == "binding"], filename)
    return [(marked_statement(m, starts, lines, filename), m, lines) for m in markers]


def binding_decl(node, marker):
    """The ``BindingDecl(...)`` call that replaces the value of a marked ``NAME = Buffer[T]``."""
    call = ast.Call(
        func=ast.Name(BINDING_ALIAS, ast.Load()),
        args=[node.value],
        keywords=[ast.keyword("name", ast.Constant(node.targets[0].id)),
                  ast.keyword("module", ast.Name("__name__", ast.Load())),
                  ast.keyword("descriptor_set", ast.Constant(marker.options["set"])),
                  ast.keyword("binding", ast.Constant(marker.options["binding"])),
                  ast.keyword("filename", ast.Name("__file__", ast.Load())),
                  ast.keyword("lineno", ast.Constant(node.lineno))])
    return located(call, first_line_of(node.value))


def literal_node(value):
    """An AST expression for a literal option value (dict of str to ints and tuples of ints)."""
    if isinstance(value, dict):
        return ast.Dict([ast.Constant(k) for k in value], [literal_node(v) for v in value.values()])
    return ast.Constant(value)


def insert_imports(tree, aliases):
    """Import the alias modules after the docstring and ``from __future__`` imports (which must come first)."""
    position = 0
    for position, node in enumerate(tree.body):
        is_docstring = (position == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
                        and isinstance(node.value.value, str))
        is_future = isinstance(node, ast.ImportFrom) and node.module == "__future__"
        if not (is_docstring or is_future):
            break
    else:
        position = len(tree.body)
    anchor = first_line_of(tree.body[min(position, len(tree.body) - 1)])
    imports = [located(ast.ImportFrom(IMPORTS[alias][0], [ast.alias(IMPORTS[alias][1], alias)], 0), anchor)
               for alias in aliases]
    tree.body[position:position] = imports


def first_line_of(node):
    """A location on the first line of ``node`` only.

    Not the node's whole span: CPython 3.11+ reports an attribute load or call at the *end* line of a
    multi-line node, so a span covering a whole def would put synthesised code at the def's last line."""
    return ast.Pass(lineno=node.lineno, col_offset=node.col_offset, end_lineno=node.lineno,
                    end_col_offset=node.col_offset)


def located(new, anchor):
    """Give ``new`` and every node under it that has no location yet the location of ``anchor``."""
    for node in ast.walk(new):
        if "lineno" in node._attributes and not hasattr(node, "lineno"):
            ast.copy_location(node, anchor)
    return new
