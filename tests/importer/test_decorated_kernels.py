"""Marked defs with decorators (DESIGN 2.2: decorators may stand between marker and def): what can be a
kernel is unwrapped to the def's own function; what cannot is a MarkerError at import, naming the line."""
import ast
import re
import sys
import textwrap

import numpy as np
import pytest

import legionella as lg
from legionella.errors import MarkerError
from legionella.importer.markers import find_markers
from legionella.importer.rewrite import DECORATED_KERNEL_ALIAS, KERNEL_ALIAS, compile_module, rewrite, source_lines

HEADER = """\
from legionella.lang import Buffer, f32, global_id
import legionella as lg

"""
BODY = """\
    i = global_id().x
    if i < len(x):
        x[i] = x[i] + SCALE
"""


def load(tmp_path, source, name="decorated_mod"):
    """Import ``source`` (HEADER prepended; write it dedented) from a real file as module ``name``, rewritten as the hook does."""
    path = tmp_path / f"{name}.py"
    path.write_text(HEADER + source)
    module = type(sys)(name)
    module.__file__ = str(path)
    sys.modules[name] = module
    try:
        exec(compile_module(path.read_bytes(), str(path)), module.__dict__)
    finally:
        del sys.modules[name]
    return module


def launch_adds(kernel, scale):
    """Run ``kernel`` on the device and in the emulator over 5 zeros; both must give ``scale`` everywhere."""
    x = lg.zeros(5, dtype=np.float32)
    kernel[5](x)
    on_host = np.zeros(5, np.float32)
    kernel.emulate[5](on_host)
    assert x.numpy().tolist() == on_host.tolist() == [scale] * 5


def test_a_staticmethod_kernel_is_the_def_and_launches(tmp_path):
    m = load(tmp_path, "SCALE = 2.0\n\nclass Ops:\n    # legionella: kernel\n    @staticmethod\n"
                       "    def add(x: Buffer[f32]):\n" + textwrap.indent(BODY, "    "))
    k = m.Ops.add
    assert isinstance(k, lg.Kernel) and m.Ops().add is k
    assert k.py_func.__qualname__ == "Ops.add" and k.id.startswith("decorated_mod:Ops.add#")
    assert k.lineno == 8  # the decorator's line, where the definition's source snapshot starts
    launch_adds(k, 2.0)


@pytest.mark.parametrize("decorators", [["@lg.kernel"], ["@lg.kernel()"], ["@staticmethod", "@lg.kernel"]])
def test_a_marker_over_lg_kernel_is_one_kernel_of_this_module(tmp_path, decorators):
    lines = "\n".join(decorators)
    m = load(tmp_path, f"SCALE = 3.0\n\n# legionella: kernel workgroup=(32,)\n{lines}\ndef add(x: Buffer[f32]):\n"
             + BODY)
    assert type(m.add) is lg.Kernel and type(m.add.py_func).__name__ == "function"
    assert m.add.id.startswith("decorated_mod:add#") and m.add.workgroup == (32,)
    launch_adds(m.add, 3.0)


def test_lg_kernel_options_join_the_markers(tmp_path):
    m = load(tmp_path, "SCALE = 1.0\n\n# legionella: kernel\n@lg.kernel(workgroup=[16])\ndef add(x: Buffer[f32]):\n"
             + BODY)
    assert m.add.workgroup == (16,) and m.add.compile().workgroup[0] == 16


def test_the_marker_and_lg_kernel_disagreeing_is_a_marker_error(tmp_path):
    with pytest.raises(MarkerError, match=r"decorated_mod\.py:6: kernel 'add': the marker says "
                                          r"workgroup=\(64,\) and @lg.kernel says workgroup=\(32,\); give it once$"):
        load(tmp_path, "SCALE = 1.0\n# legionella: kernel workgroup=(64,)\n@lg.kernel(workgroup=(32,))\n"
                       "def add(x: Buffer[f32]):\n" + BODY)


def test_a_wraps_wrapper_from_another_module_is_followed_to_the_def(tmp_path):
    (tmp_path / "tracing.py").write_text(textwrap.dedent("""\
        import functools
        SCALE = 100.0  # not the kernel's SCALE: names resolve in the def's module, not the decorator's

        def traced(f):
            @functools.wraps(f)
            def wrapper(*args):
                return f(*args)
            return wrapper
        """))
    sys.path.insert(0, str(tmp_path))
    try:
        m = load(tmp_path, "from tracing import traced\nSCALE = 5.0\n\n# legionella: kernel\n@traced\n"
                           "def add(x: Buffer[f32]):\n" + BODY)
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("tracing", None)
    assert m.add.py_func.__code__.co_filename.endswith("decorated_mod.py")
    launch_adds(m.add, 5.0)


@pytest.mark.parametrize("decorator, message", [
    ("@classmethod", "its decorators make it a classmethod object, which cannot be launched"),
    ("@property", "its decorators make it a property object, which cannot be launched"),
    ("@replace", r"its decorators return another function, 'other' \(line 4\), with no __wrapped__ leading "
                 "back to the def"),
])
def test_what_cannot_be_a_kernel_is_a_marker_error_at_import(tmp_path, decorator, message):
    source = (f"def other(x): pass\ndef replace(f): return other\nSCALE = 1.0\n\nclass Ops:\n"
              f"    # legionella: kernel\n    {decorator}\n    def add(x: Buffer[f32]):\n")
    with pytest.raises(MarkerError) as info:
        load(tmp_path, source + textwrap.indent(BODY, "    "))
    text = str(info.value)
    assert text.startswith(f"{tmp_path / 'decorated_mod.py'}:10: kernel 'Ops.add': ")
    assert "@staticmethod and @lg.kernel; remove that decorator, or the marker" in text
    assert re.search(message, text), text
    assert (info.value.filename, info.value.lineno) == (str(tmp_path / "decorated_mod.py"), 10)


def test_only_decorated_defs_take_the_unwrapping_call():
    source = b"# legionella: kernel\ndef plain(): pass\n\n# legionella: kernel\n@staticmethod\ndef deco(): pass\n"
    tree = rewrite(ast.parse(source), find_markers(source, "m.py"), source_lines(source), "m.py")
    stubs = {node.targets[0].id: node.value for node in tree.body
             if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)}
    assert stubs["plain"].func.id == KERNEL_ALIAS and len(stubs["plain"].args) == 5
    assert stubs["deco"].func.id == DECORATED_KERNEL_ALIAS and stubs["deco"].args[-1].id == "__file__"


def test_a_workgroup_list_is_a_tuple_in_a_marker_and_in_lg_kernel(tmp_path):
    m = load(tmp_path, "SCALE = 1.0\n\n# legionella: kernel workgroup=[8, 8]\ndef add(x: Buffer[f32]):\n" + BODY)
    twin = load(tmp_path, "SCALE = 1.0\n\n# legionella: kernel workgroup=(8, 8)\ndef add(x: Buffer[f32]):\n" + BODY)
    assert m.add.workgroup == (8, 8) and m.add.options == {"workgroup": (8, 8)} and m.add.id == twin.add.id
    assert lg.kernel(m.add.py_func, workgroup=[4, 4, 4]).workgroup == (4, 4, 4)
    with pytest.raises(MarkerError, match=r"decorated_mod\.py:6: workgroup must be a tuple of 1 to 3 positive "
                                          r"ints, like workgroup=\(256,\); got \[8, 0\]"):
        load(tmp_path, "SCALE = 1.0\n\n# legionella: kernel workgroup=[8, 0]\ndef add(x: Buffer[f32]):\n" + BODY)


@pytest.mark.parametrize("argument", [3, (64,), "add"])
def test_lg_kernel_given_something_else_than_a_function_says_what_it_takes(argument):
    with pytest.raises(TypeError, match=r"@lg.kernel decorates a function \(a def\), got .*; write @lg.kernel or "
                                        r"@lg.kernel\(workgroup=\(256,\)\) above the def"):
        lg.kernel(argument)


def test_lg_kernel_above_staticmethod_is_the_function(tmp_path):
    m = load(tmp_path, "SCALE = 4.0\n\nclass Ops:\n    @lg.kernel\n    @staticmethod\n"
                       "    def add(x: Buffer[f32]):\n" + textwrap.indent(BODY, "    "))
    assert m.Ops.add.py_func.__qualname__ == "Ops.add" and m.Ops().add is m.Ops.add
    launch_adds(m.Ops.add, 4.0)
