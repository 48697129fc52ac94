"""Markers: what is one, what each may mark, and a MarkerError with file and line for every bad one."""
import textwrap

import pytest

from legionella.errors import MarkerError
from legionella.importer.markers import find_markers, split_options
from legionella.importer.rewrite import compile_module


def compile_text(text, filename="/src/mod.py"):
    return compile_module(textwrap.dedent(text).encode(), filename)


def run_text(text, name="mod"):
    namespace = {"__name__": name, "__file__": "/src/mod.py"}
    exec(compile_text(text), namespace)
    return namespace


@pytest.mark.parametrize("options, expected", [
    ("", {}),
    ("workgroup=(256,)", {"workgroup": (256,)}),
    ("workgroup=(16, 16)", {"workgroup": (16, 16)}),
    ("workgroup = ( 8,8 , 4 )", {"workgroup": (8, 8, 4)}),
    ("workgroup=64", {"workgroup": (64,)}),
])
def test_kernel_options_are_literals(options, expected):
    [marker] = find_markers(f"# legionella: kernel {options}\ndef k(): pass\n".encode(), "m.py")
    assert (marker.kind, marker.options, marker.lineno) == ("kernel", expected, 1)


def test_split_options_keeps_bracketed_spaces():
    assert split_options("set=0 binding=(1, 2)") == [("set", "0 "), ("binding", "(1, 2)")]


def test_marker_text_inside_strings_is_not_a_marker():
    text = '''\
        """Docstring mentioning
        # legionella: kernel
        """
        s = "# legionella: kernel workgroup=(1,)"
        def f():
            return s
        '''
    assert find_markers(textwrap.dedent(text).encode(), "m.py") == []
    assert callable(run_text(text)["f"])


BAD_MARKERS = [
    # (source, line of the error, words the message must contain)
    ("# legionella: kernal\ndef k(): pass\n", 1, "unknown marker kind 'kernal'"),
    ("# legionella:\ndef k(): pass\n", 1, "unknown marker kind ''"),
    ("# legionella: kernel workgroups=(1,)\ndef k(): pass\n", 1, "unknown option 'workgroups'"),
    ("# legionella: kernel workgroup=SIZE\ndef k(): pass\n", 1, "must be a Python literal"),
    ("# legionella: kernel workgroup=(2 ** 8,)\ndef k(): pass\n", 1, "must be a Python literal"),
    ("# legionella: kernel workgroup=(0,)\ndef k(): pass\n", 1, "positive ints"),
    ("# legionella: kernel workgroup=(1, 2, 3, 4)\ndef k(): pass\n", 1, "1 to 3"),
    ("# legionella: kernel workgroup=(1,) workgroup=(2,)\ndef k(): pass\n", 1, "given twice"),
    ("# legionella: kernel (256,)\ndef k(): pass\n", 1, "key=value"),
    ("# legionella: vertex\ndef k(): pass\n", 1, "not supported yet"),
    ("# legionella: fragment\ndef k(): pass\n", 1, "not supported yet"),
    ("x = 1\n\n\n# legionella: kernel\n", 4, "marks nothing: it is followed by the end of the file"),
    ("# legionella: kernel\n\ndef k(): pass\n", 1, "followed by a blank line"),
    ("# legionella: kernel\nx = 1\n", 1, "must stand above a def, not a Assign"),
    ("# legionella: kernel\nclass C: pass\n", 1, "must stand above a def"),
    ("# legionella: kernel\nasync def k(): pass\n", 1, "async def"),
    ("def k():  # legionella: kernel\n    pass\n", 1, "comment line of its own"),
    ("# legionella: kernel\n# legionella: kernel\ndef k(): pass\n", 2, "already marked at line 1"),
    ("from legionella.lang import Buffer, f32\n# legionella: binding set=0\nX = Buffer[f32]\n", 2,
     "needs binding="),
    ("# legionella: binding set=-1 binding=0\nX = 1\n", 1, "set must be a non-negative int"),
    ("# legionella: binding set=0 binding=True\nX = 1\n", 1, "binding must be a non-negative int"),
    ("# legionella: binding set=0 binding=0\ndef k(): pass\n", 1, "NAME = Buffer[T]"),
    ("# legionella: binding set=0 binding=0\nX = [1]\n", 1, "NAME = Buffer[T]"),
    ("def f():\n    # legionella: binding set=0 binding=0\n    X = Buffer[f32]\n", 2, "module-level"),
    ("# legionella: binding set=0 binding=0\nX = Y = Buffer[f32]\n", 1, "NAME = Buffer[T]"),
    ("from legionella.lang import Buffer, f32\n# legionella: binding set=1 binding=2\nA = Buffer[f32]\n"
     "# legionella: binding set=1 binding=2\nB = Buffer[f32]\n", 4, "already declared at line 2"),
]


@pytest.mark.parametrize("text, line, words", BAD_MARKERS, ids=[words for _, _, words in BAD_MARKERS])
def test_bad_marker_names_file_and_line(text, line, words):
    with pytest.raises(MarkerError) as info:
        compile_module(text.encode(), "/src/bad.py")
    error = info.value
    assert isinstance(error, ImportError)
    assert (error.filename, error.lineno) == ("/src/bad.py", line)
    assert str(error).startswith(f"/src/bad.py:{line}: ")
    assert words in str(error)


def test_comments_and_decorators_may_stand_between_marker_and_def():
    namespace = run_text('''\
        def identity(f):
            return f

        # legionella: kernel workgroup=(32,)
        # a comment about the kernel
        @identity
        # another comment
        @identity
        def k(a):
            return a + 1
        ''')
    k = namespace["k"]
    assert type(k).__name__ == "Kernel"
    assert k.workgroup == (32,)
    assert k.py_func(1) == 2
    assert k.source.startswith("@identity\n# another comment\n@identity\ndef k(a):")
