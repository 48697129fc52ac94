"""Snippets for the error tests: a kernel ``k`` written into a module of its own and compiled."""
import importlib.util
import itertools
import sys
import textwrap

import pytest

import legionella as lg
from legionella.compiler import Target, compile_kernel

_counter = itertools.count()


def compile_snippet(header, snippet, tmp_path, target=Target()):
    """Write ``header`` + ``snippet`` (which defines a kernel function ``k``) as a new module under
    ``tmp_path``, import it, and compile ``k`` for ``target``; CompileErrors point into that file."""
    name = f"snippet_{next(_counter)}"
    path = tmp_path / f"{name}.py"
    path.write_text(header + textwrap.dedent(snippet).lstrip("\n"))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return compile_kernel(lg.kernel(module.k), target)


def refused_snippet(header, snippet, tmp_path, message, line, col, target=Target()):
    """Compile a snippet that must fail: assert the CompileError's message has ``message`` and points at
    ``line`` (counted from the snippet's first line) and ``col``, in kernel ``k``; return the error."""
    with pytest.raises(lg.CompileError) as info:
        compile_snippet(header, snippet, tmp_path, target)
    e = info.value
    assert message in e.message, str(e)
    assert (e.lineno, e.col) == (header.count("\n") + line, col), str(e)
    assert e.filename.endswith(".py") and e.text is not None and "^" in str(e)
    assert "in kernel 'k'" in str(e)
    return e
