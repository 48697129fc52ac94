"""The hook end to end, each import in a fresh interpreter: stubs, ids, the cache and its edge cases."""
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from importer_helpers import (DESCRIBE, SAXPY, cache_files, child_command, child_env,
                              result_of, run_python, write_package)
from legionella.importer import cache



def test_marked_def_becomes_a_stub(saxpy_package):
    described = run_python(saxpy_package, DESCRIBE)
    assert described["type"] == "Kernel" and described["py_func"] == "saxpy"
    assert described["loader"] == "LegionellaLoader"
    assert described["id"].startswith("pkg.mod:saxpy#")
    assert described["options"] == {"workgroup": [64]}
    assert (described["filename"], described["lineno"]) == (str(saxpy_package / "pkg" / "mod.py"), 4)
    assert described["source"].startswith("def saxpy(a: f32, x: Buffer[f32], y: Buffer[f32]):\n")
    assert described["source"].endswith("\n        y[i] = a * x[i] + y[i]\n")


def test_cache_miss_then_hit_gives_the_same_stub_and_id(saxpy_package):
    fresh = run_python(saxpy_package, DESCRIBE)
    cached = run_python(saxpy_package, DESCRIBE)
    assert (fresh["compiles"], cached["compiles"]) == (1, 0)
    assert {k: v for k, v in fresh.items() if k != "compiles"} == {k: v for k, v in cached.items()
                                                                   if k != "compiles"}
    assert f"pkg/__pycache__/mod.{cache.TAG}.pyc" in cache_files(saxpy_package)


def test_ids_are_stable_across_processes_and_cache_states(saxpy_package):
    ids = {run_python(saxpy_package, DESCRIBE, PYTHONDONTWRITEBYTECODE="1")["id"] for _ in range(2)}
    ids |= {run_python(saxpy_package, DESCRIBE, PYTHONHASHSEED=str(seed))["id"] for seed in (1, 2)}
    assert len(ids) == 1


def test_pyc_is_checked_hash_under_our_tag(saxpy_package):
    run_python(saxpy_package, DESCRIBE)
    pyc = saxpy_package / "pkg" / "__pycache__" / f"mod.{cache.TAG}.pyc"
    data = pyc.read_bytes()
    assert int.from_bytes(data[4:8], "little") == 0b11  # PEP 552: hash-based, checked
    assert "legionella-" in cache.TAG and cache.TAG.startswith("cpython-")


def test_same_second_same_size_edit_is_recompiled(saxpy_package):
    path = saxpy_package / "pkg" / "mod.py"
    before = run_python(saxpy_package, DESCRIBE)
    stat = path.stat()
    edited = path.read_text().replace("a * x[i] + y[i]", "a * y[i] + x[i]")
    assert len(edited) == stat.st_size
    path.write_text(edited)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # an mtime-checked pyc would not see this edit
    after = run_python(saxpy_package, DESCRIBE)
    assert after["compiles"] == 1
    assert "a * y[i] + x[i]" in after["source"] and after["id"] != before["id"]


def test_reload_rewrites_the_edited_module(saxpy_package):
    result = run_python(saxpy_package, """
        import importlib, pathlib
        import legionella.auto
        from pkg import mod
        first = mod.saxpy.id
        path = pathlib.Path(mod.__file__)
        path.write_text(path.read_text().replace("(64,)", "(128,)"))
        importlib.reload(mod)
        report({"first": first, "second": mod.saxpy.id, "workgroup": list(mod.saxpy.workgroup),
                "type": type(mod.saxpy).__name__})
        """)
    assert result["first"] != result["second"]
    assert result["workgroup"] == [128] and result["type"] == "Kernel"


def test_dont_write_bytecode_writes_nothing(saxpy_package):
    described = run_python(saxpy_package, DESCRIBE, PYTHONDONTWRITEBYTECODE="1")
    assert described["type"] == "Kernel"
    assert cache_files(saxpy_package) == []


def test_pycache_prefix_moves_the_cache(saxpy_package, tmp_path_factory):
    prefix = tmp_path_factory.mktemp("prefix")
    run_python(saxpy_package, DESCRIBE, PYTHONPYCACHEPREFIX=str(prefix))
    hit = run_python(saxpy_package, DESCRIBE, PYTHONPYCACHEPREFIX=str(prefix))
    assert hit["compiles"] == 0
    assert cache_files(saxpy_package) == []
    assert any(p.name == f"mod.{cache.TAG}.pyc" for p in prefix.rglob("*.pyc"))


def read_only_prefix(directory):
    """Run the child with ``directory`` read-only: chmod for a normal user; for root (whom chmod does not
    stop) a read-only bind mount in a private mount namespace."""
    if os.geteuid() != 0:
        directory.chmod(0o555)
        return ()
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-m", "true"]).returncode != 0:
        pytest.skip("running as root without mount namespaces: cannot make a directory read-only")
    script = 'mount --bind "$0" "$0" && mount -o remount,ro,bind "$0" "$0" && exec "$@"'
    return ("unshare", "-m", "sh", "-c", script, str(directory))


def test_read_only_package_directory_means_no_cache(saxpy_package):
    directory = saxpy_package / "pkg"
    try:
        result = run_python(saxpy_package, """
            import os
            try:  # the test itself: the directory must really refuse writes
                open(os.path.join("pkg", "probe"), "w").close()
                writable = True
            except OSError:
                writable = False
            import legionella.auto
            from pkg import mod
            report({"writable": writable, "type": type(mod.saxpy).__name__, "compiles": len(compiles)})
            """, prefix=read_only_prefix(directory))
    finally:
        directory.chmod(0o755)
    assert result == {"writable": False, "type": "Kernel", "compiles": 1}
    assert cache_files(saxpy_package) == []


def test_eight_concurrent_importers_leave_a_valid_cache(saxpy_package):
    # many kernels make the pyc large enough that a torn write would be caught
    body = "".join(f"\n# legionella: kernel\ndef k{n}(a: Buffer[f32]):\n    a[0] = {n}.0\n" for n in range(200))
    write_package(saxpy_package, {"mod": SAXPY + textwrap.indent(body, "    ")})
    processes = [subprocess.Popen(child_command(DESCRIBE), cwd=saxpy_package, env=child_env(saxpy_package),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(8)]
    results = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=120)
        results.append(result_of(subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)))
    assert len({r["id"] for r in results}) == 1
    pycache = saxpy_package / "pkg" / "__pycache__"
    assert [p.name for p in pycache.iterdir() if "legionella" in p.name] == [f"mod.{cache.TAG}.pyc"]
    source = (saxpy_package / "pkg" / "mod.py").read_bytes()
    import importlib.util
    assert cache.read(str(pycache / f"mod.{cache.TAG}.pyc"), importlib.util.source_hash(source)) is not None
    assert run_python(saxpy_package, DESCRIBE)["compiles"] == 0


@pytest.mark.parametrize("encoding, header", [("latin-1", b"# -*- coding: latin-1 -*-\n"),
                                              ("utf-8-sig", b""), ("cp1252", b"# vim: set fileencoding=cp1252 :\n")])
def test_pep263_source_encodings(tmp_path, encoding, header):
    text = ("from legionella.lang import f32\n"
            "GREETING = 'h\u00e9llo'\n"
            "# legionella: kernel\n"
            "def k(a: f32):\n"
            "    # caf\u00e9: a non-ASCII comment in the snapshot\n"
            "    return a\n")
    write_package(tmp_path, {"mod": header + text.encode(encoding)})
    result = run_python(tmp_path, """
        import legionella.auto
        from pkg import mod
        report({"source": mod.k.source, "lineno": mod.k.lineno, "greeting": mod.GREETING})
        """)
    assert result["greeting"] == "h\u00e9llo"
    assert result["source"] == "def k(a: f32):\n    # caf\u00e9: a non-ASCII comment in the snapshot\n    return a\n"
    assert result["lineno"] == 4 + header.count(b"\n")


def test_syntax_error_in_marked_module_has_the_right_line(tmp_path):
    write_package(tmp_path, {"mod": SAXPY + "\n    def broken(:\n        pass\n"})
    result = run_python(tmp_path, """
        import legionella.auto
        try:
            from pkg import mod
        except SyntaxError as e:
            report({"type": type(e).__name__, "filename": e.filename, "lineno": e.lineno})
        """)
    assert result == {"type": "SyntaxError", "filename": str(tmp_path / "pkg" / "mod.py"), "lineno": 9}


def test_bad_marker_on_import_is_an_import_error_with_file_and_line(tmp_path):
    write_package(tmp_path, {"mod": "x = 1\n# legionella: kernel wrkgroup=(1,)\ndef k(): pass\n"})
    result = run_python(tmp_path, """
        import legionella.auto
        from legionella.errors import MarkerError
        try:
            import pkg.mod
        except ImportError as e:
            report({"marker_error": isinstance(e, MarkerError), "message": str(e), "lineno": e.lineno})
        """)
    assert result["marker_error"] and result["lineno"] == 2
    assert result["message"].startswith(f"{tmp_path / 'pkg' / 'mod.py'}:2: unknown option 'wrkgroup'")


def test_modules_without_markers_keep_the_ordinary_loader(tmp_path):
    write_package(tmp_path, {"plain": "def f():\n    return 1\n",
                             "mentions": "'''# legionella: kernel'''\ndef f():\n    return 1\n"})
    result = run_python(tmp_path, """
        import legionella.auto
        from pkg import plain, mentions
        report({"plain": type(plain.__spec__.loader).__name__, "mentions": type(mentions.f).__name__,
                "json": type(json.__spec__.loader).__name__})
        """)
    assert result == {"plain": "SourceFileLoader", "mentions": "function", "json": "SourceFileLoader"}


def test_each_file_is_read_once_per_import(saxpy_package):
    # The finder's read is all the hook costs a module without markers, and the loader of a marked module
    # uses the bytes the finder read: one read of the source, plus one of the pyc on a cache hit.
    write_package(saxpy_package, {"plain": "def f():\n    return 1\n"})
    counting = """
        import os
        import legionella.importer.cache as _cache
        reads = []
        _read_file = _cache.read_file
        def _counting_read(path):
            data = _read_file(path)  # a missing pyc raises, and is not counted
            reads.append(os.path.relpath(path))
            return data
        _cache.read_file = _counting_read
        import legionella.auto
        import pkg.mod, pkg.plain
        report(sorted(reads))
        """
    pyc = os.path.join("pkg", "__pycache__", f"mod.{cache.TAG}.pyc")
    assert run_python(saxpy_package, counting) == sorted([os.path.join("pkg", "__init__.py"),
                                                          os.path.join("pkg", "mod.py"),
                                                          os.path.join("pkg", "plain.py")])
    assert run_python(saxpy_package, counting) == sorted([os.path.join("pkg", "__init__.py"),
                                                          os.path.join("pkg", "mod.py"), pyc,
                                                          os.path.join("pkg", "plain.py")])


def test_module_imported_before_auto_gets_a_warning(saxpy_package):
    result = run_python(saxpy_package, """
        import warnings
        from pkg import mod
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            import legionella.auto
        report([(w.category.__name__, w.filename, w.lineno, str(w.message)) for w in caught])
        """)
    [(category, filename, lineno, message)] = result
    assert (category, filename, lineno) == ("MarkersNotRewrittenWarning", str(saxpy_package / "pkg" / "mod.py"), 3)
    assert "'pkg.mod'" in message and "before 'import legionella.auto'" in message


def test_install_handles_and_uninstall(saxpy_package):
    result = run_python(saxpy_package, """
        import sys
        import legionella.auto
        from legionella.importer import install, is_installed
        first = legionella.auto.hook
        finders = lambda: sum(type(f).__name__ == "LegionellaFinder" for f in sys.meta_path)
        with install() as inner:
            del sys.modules["legionella.auto"]
            import legionella.auto  # a second execution of auto installs no second finder
            nested = finders()
            legionella.auto.hook.uninstall()
        after_with = is_installed()
        first.uninstall()
        first.uninstall()  # idempotent
        from pkg import mod
        report({"nested": nested, "after_with": after_with, "after_uninstall": is_installed(),
                "plain": type(mod.saxpy).__name__, "inner": repr(inner)})
        """)
    assert result == {"nested": 1, "after_with": True, "after_uninstall": False, "plain": "function",
                      "inner": "<legionella ImportHook uninstalled>"}


def test_binding_declarations_clash_across_modules(tmp_path):
    declaration = "from legionella.lang import Buffer, f32\n\n# legionella: binding set=0 binding=2\nTABLE = Buffer[f32]\n"
    write_package(tmp_path, {"a": declaration, "b": "# padding\n" + declaration})
    result = run_python(tmp_path, """
        import legionella.auto
        import numpy as np
        from pkg import a
        a.TABLE.bind(np.zeros(4, np.float32))
        try:
            from pkg import b
        except ImportError as e:
            report({"decl": repr(a.TABLE), "set": a.TABLE.set, "lineno": a.TABLE.lineno, "error": str(e),
                    "bound": a.TABLE.bound.shape[0]})
        """)
    a_path, b_path = (tmp_path / "pkg" / "a.py", tmp_path / "pkg" / "b.py")
    assert result["decl"] == "<legionella.BindingDecl pkg.a.TABLE: Buffer[f32] set=0 binding=2>"
    assert (result["set"], result["lineno"], result["bound"]) == (0, 4, 4)
    assert result["error"].startswith(f"{b_path}:5: set=0 binding=2 is declared twice: pkg.a.TABLE at {a_path}:4")


@pytest.mark.parametrize("path, expected", [("/usr/lib/python3.11/json/__init__.py", True),
                                            ("/usr/lib/python3.11/site-packages/kernels/mod.py", False),
                                            ("/usr/lib/python3.11/dist-packages/kernels/mod.py", False),
                                            ("/home/user/kernels/mod.py", False)])
def test_early_import_scan_skips_only_the_standard_library(path, expected):
    from legionella.importer.early import in_standard_library
    assert in_standard_library(path, "/usr/lib/python3.11/") is expected


SCRIPT_KERNELS = '''
from legionella.lang import Buffer, f32, global_id

# legionella: kernel workgroup=(64,)
def scale(a: Buffer[f32]):
    a[global_id().x] *= 2.0
'''


def run_script(path):
    return subprocess.run([sys.executable, "-W", "always", str(path)], capture_output=True, text=True,
                          env=child_env(path.parent), cwd=path.parent)


def test_script_binds_its_kernels_when_auto_is_imported_after_them(tmp_path):
    script = tmp_path / "script.py"
    script.write_text(SCRIPT_KERNELS + textwrap.dedent('''
        if __name__ == "__main__":
            import legionella.auto
            print(type(scale).__name__, scale.id.split("#")[0], scale.workgroup)
        '''))
    run = run_script(script)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["Kernel", "__main__:scale", "(64,)"]
    assert "MarkersNotRewrittenWarning" not in run.stderr


def test_script_importing_auto_before_its_kernels_is_warned(tmp_path):
    script = tmp_path / "script.py"
    script.write_text("import legionella.auto\n" + SCRIPT_KERNELS + "print(type(scale).__name__)\n")
    run = run_script(script)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["function"]
    assert f"{script}:5: MarkersNotRewrittenWarning" in run.stderr


def test_script_binds_its_binding_declarations_too(tmp_path):
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent('''
        from legionella.lang import Buffer, f32, global_id

        # legionella: binding set=1 binding=0
        TABLE = Buffer[f32]


        # legionella: kernel
        def read(out: Buffer[f32]):
            i = global_id().x
            if i < len(out):
                out[i] = TABLE[i]


        if __name__ == "__main__":
            import legionella.auto
            print(type(TABLE).__name__, TABLE.set, TABLE.binding, TABLE.module, type(read).__name__)
        '''))
    run = run_script(script)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["BindingDecl", "1", "0", "__main__", "Kernel"]
    assert "MarkersNotRewrittenWarning" not in run.stderr
