"""``legionella build`` and ``disasm`` with decorated marked defs and kernels in classes (built, or reported
with file and line, never skipped) and syntax errors reported with the file's whole path."""
import textwrap

from cli_helpers import assert_one_line_error, run_cli

KERNEL_BODY = """\
    i = global_id().x
    if i < len(x):
        x[i] = x[i] + 1.0
"""
HEADER = "from legionella.lang import Buffer, f32, global_id\nimport legionella as lg\n\n"
MODULES = {
    "static": HEADER + "class Ops:\n    # legionella: kernel\n    @staticmethod\n    def add(x: Buffer[f32]):\n"
              + textwrap.indent(KERNEL_BODY, "    ") + "\nadd = Ops.add\n",
    "both": HEADER + "# legionella: kernel workgroup=(32,)\n@lg.kernel\ndef add(x: Buffer[f32]):\n" + KERNEL_BODY,
    "nested": HEADER + "class Outer:\n    class Inner:\n        # legionella: kernel\n        def go(x: Buffer[f32]):\n"
              + textwrap.indent(KERNEL_BODY, "        "),
    "classy": HEADER + "class Ops:\n    # legionella: kernel\n    @classmethod\n    def add(x: Buffer[f32]):\n"
              + textwrap.indent(KERNEL_BODY, "    "),
}


BROKEN = MODULES["both"] + "\ndef oops(:\n"
BROKEN_LINE = BROKEN.splitlines().index("def oops(:") + 1


def write_tree(root, files):
    """``{relative path: source}`` under ``root``, with an ``__init__.py`` in every directory below it."""
    for relative, source in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        for parent in path.relative_to(root).parents:
            if str(parent) != ".":
                (root / parent / "__init__.py").touch()
        path.write_text(source)


def test_decorated_kernels_are_built_and_what_cannot_be_one_is_reported(tmp_path):
    write_tree(tmp_path, {f"pkg/{name}.py": source for name, source in MODULES.items()})
    run = run_cli(tmp_path / "cache", "build", "pkg", cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    built = {line.split()[0]: line.split()[1] for line in run.stdout.splitlines()[:-1]}
    # Ops.add once, although the module holds it twice (Ops.add and add); Outer.Inner.go only in its class.
    assert built == {"pkg.static:Ops.add": "compiled", "pkg.both:add": "compiled",
                     "pkg.nested:Outer.Inner.go": "compiled"}, run.stdout
    assert "built 3 kernels" in run.stdout.splitlines()[-1]
    assert_one_line_error(run, f"{tmp_path / 'pkg' / 'classy.py'}:6: kernel 'Ops.add': its decorators make it a "
                               "classmethod object, which cannot be launched")


def test_build_names_the_whole_path_of_a_syntax_error(tmp_path):
    # Two modules of one name in two packages: the basename alone would not say which is broken.
    write_tree(tmp_path, {"pkg/a/util.py": MODULES["both"], "pkg/b/util.py": BROKEN})
    run = run_cli(tmp_path / "cache", "build", "pkg", cwd=tmp_path)
    assert run.returncode == 1 and run.stdout.startswith("pkg.a.util:add "), run.stdout
    assert_one_line_error(run, f"invalid syntax ({tmp_path / 'pkg' / 'b' / 'util.py'}, line {BROKEN_LINE})")


def test_disasm_names_the_whole_path_of_a_syntax_error(tmp_path):
    write_tree(tmp_path, {"pkg/b/util.py": BROKEN})
    run = run_cli(tmp_path / "cache", "disasm", "pkg.b.util:add", "--generic", cwd=tmp_path)
    assert_one_line_error(run, f"invalid syntax ({tmp_path / 'pkg' / 'b' / 'util.py'}, line {BROKEN_LINE})")
    assert run.stdout == ""
