"""The AST rewrite: stubs, source snapshots, qualnames, and original locations everywhere."""
import ast
import inspect
import linecache
import re
import textwrap
import traceback

import pytest

from legionella.importer.markers import find_markers
from legionella.importer.rewrite import compile_module, rewrite, source_lines
from legionella.kernel import Kernel, kernel_id

MODULE = textwrap.dedent('''\
    """A module of kernels."""
    from __future__ import annotations

    from legionella.lang import Buffer, f32, global_id


    def helper(x):
        return x * 2


    # legionella: kernel workgroup=(64,)
    def double(a: Buffer[f32]):
        i = global_id().x
        a[i] = helper(a[i])


    class Holder:
        # legionella: kernel
        def method(self):
            raise ValueError("raised on line 20")


    def outer():
        # legionella: kernel
        def inner():
            pass
        return inner


    def fails():
        raise RuntimeError("raised on line 31")
    ''')
FILENAME = "/virtual/kernels_mod.py"


@pytest.fixture
def module():
    """Execute the rewritten MODULE as module ``kernels_mod``, its source visible to linecache/inspect."""
    linecache.cache[FILENAME] = (len(MODULE), None, MODULE.splitlines(True), FILENAME)
    namespace = {"__name__": "kernels_mod", "__file__": FILENAME}
    exec(compile_module(MODULE.encode(), FILENAME), namespace)
    yield namespace
    linecache.cache.pop(FILENAME, None)


def test_marked_defs_become_stubs_with_py_func(module):
    double = module["double"]
    assert isinstance(double, Kernel)
    assert inspect.isfunction(double.py_func) and double.py_func.__name__ == "double"
    assert double.options == {"workgroup": (64,)}
    assert (double.filename, double.lineno, double.module, double.qualname) == (FILENAME, 12, "kernels_mod",
                                                                                  "double")
    assert double.source == "def double(a: Buffer[f32]):\n    i = global_id().x\n    a[i] = helper(a[i])\n"
    assert double.id == kernel_id("kernels_mod", "double", double.source, {"workgroup": (64,)})
    assert re.fullmatch(r"kernels_mod:double#[0-9a-f]{16}", double.id)
    assert not isinstance(module["helper"], Kernel)


def test_qualnames_of_methods_and_nested_defs(module):
    method = module["Holder"].method
    assert isinstance(method, Kernel) and method.qualname == "Holder.method"
    assert method.source.startswith("def method(self):")  # dedented
    inner = module["outer"]()
    assert isinstance(inner, Kernel) and inner.qualname == "outer.<locals>.inner"
    assert inner.qualname == inner.py_func.__qualname__


def test_tracebacks_and_inspect_show_original_lines(module):
    with pytest.raises(RuntimeError) as info:
        module["fails"]()
    assert info.traceback[-1].lineno + 1 == 31
    with pytest.raises(ValueError) as info:
        module["Holder"].method.py_func(None)
    frame = traceback.extract_tb(info.value.__traceback__)[-1]
    assert (frame.filename, frame.lineno, frame.line) == (FILENAME, 20, 'raise ValueError("raised on line 20")')
    lines, first = inspect.getsourcelines(module["double"].py_func)
    assert first == 12 and lines[0].startswith("def double")


def test_synthesised_nodes_carry_the_marked_statements_lines():
    source = MODULE.encode()
    tree = ast.parse(source)
    original = {id(n) for n in ast.walk(tree)}
    rewrite(tree, find_markers(source, FILENAME), source_lines(source), FILENAME)
    synthesised = [n for n in ast.walk(tree) if id(n) not in original and "lineno" in n._attributes]
    assert synthesised, "the rewrite added nothing"
    # every stub sits on its def line, the import on the first statement after the docstring and __future__
    assert {n.lineno for n in synthesised} <= {4, 12, 19, 25}
    assert all(n.end_lineno == n.lineno for n in synthesised)
    import_node = tree.body[2]
    assert isinstance(import_node, ast.ImportFrom) and import_node.module == "legionella.kernel"
    assert import_node.lineno == 4


def test_a_stub_is_one_positional_call_of_constants():
    # It runs for every kernel at every import: no keywords, nothing computed but the options dict.
    source = MODULE.encode()
    tree = rewrite(ast.parse(source), find_markers(source, FILENAME), source_lines(source), FILENAME)
    stub = next(n for n in tree.body if isinstance(n, ast.Assign) and n.targets[0].id == "double")
    call = stub.value
    assert call.func.id == "@legionella_Kernel" and call.keywords == []
    function, *constants = call.args
    assert function.id == "double"
    assert [ast.literal_eval(c) for c in constants] == [
        "def double(a: Buffer[f32]):\n    i = global_id().x\n    a[i] = helper(a[i])\n", {"workgroup": (64,)}, 12,
        "double"]


def test_future_import_still_applies(module):
    # ``from __future__ import annotations`` must stay first for compile() to honour it
    assert module["double"].py_func.__annotations__ == {"a": "Buffer[f32]"}


def test_rewrite_is_deterministic():
    # code objects compare by bytecode, constants, names and line table (marshal output varies with refcounts)
    assert compile_module(MODULE.encode(), FILENAME) == compile_module(MODULE.encode(), FILENAME)


def test_module_without_markers_compiles_to_plain_code():
    source = b"def f():\n    return 1\n"
    assert compile_module(source, "m.py") == compile(source, "m.py", "exec", dont_inherit=True)


def test_form_feed_does_not_shift_the_snapshot():
    source = b"x = 1\n\x0c\n# legionella: kernel\ndef k():\n    return 2\n"
    namespace = {"__name__": "ff"}
    exec(compile_module(source, "ff.py"), namespace)
    assert namespace["k"].source == "def k():\n    return 2\n"
    assert namespace["k"].lineno == 4
