"""Helpers for the import-hook tests: packages written under ``tmp_path`` and fresh interpreters.

The hook's behaviour depends on process state (``sys.modules``, ``sys.meta_path``, the bytecode cache),
so most tests import in a new interpreter, the way a user's program does.
"""
import json
import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
RESULT_PREFIX = "RESULT:"

# A child script ends by calling report(value); run_python returns that value. ``compiles`` lists the
# modules the child rewrote, so a test can tell a cache hit (nothing) from a miss.
CHILD_PRELUDE = f"""
import json, sys
def report(value):
    print({RESULT_PREFIX!r} + json.dumps(value))
"""
COUNT_COMPILES = """
import legionella.importer.hook as _hook
compiles = []
_compile = _hook.compile_module
def _counting(source, path):
    compiles.append(path)
    return _compile(source, path)
_hook.compile_module = _counting
"""


def child_env(root, **extra):
    """The environment of a child interpreter: ``root`` and the repository on the path ahead of the caller's
    PYTHONPATH (kept: it may be how ``vulkan`` is found), bytecode writing on."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}
    env["PYTHONPATH"] = os.pathsep.join([str(root), str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])
    env.update(extra)
    return env


def child_command(code):
    return [sys.executable, "-c", CHILD_PRELUDE + COUNT_COMPILES + textwrap.dedent(code)]


def result_of(completed):
    """The value the child reported; fails the test with the child's output when it did not report."""
    for line in completed.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX):])
    pytest.fail(f"the child reported nothing (rc={completed.returncode}):\n{completed.stdout}\n{completed.stderr}")


def run_python(root, code, *, prefix=(), **env):
    """Run ``code`` in a fresh interpreter with ``root`` on ``sys.path``; return what it reported."""
    completed = subprocess.run([*prefix, *child_command(code)], cwd=root, env=child_env(root, **env),
                               capture_output=True, text=True, timeout=120)
    return result_of(completed)


def write_package(root, files, package="pkg"):
    """Write ``{name: source}`` as modules of ``package`` under ``root``; sources are dedented.

    A ``bytes`` source is written as is (for encoding tests)."""
    directory = pathlib.Path(root) / package
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "__init__.py").touch()
    for name, source in files.items():
        data = source if isinstance(source, bytes) else textwrap.dedent(source).encode()
        (directory / f"{name}.py").write_bytes(data)
    return directory


def cache_files(root):
    """Every file under ``root`` in a ``__pycache__`` directory (or the whole tree for a prefix dir)."""
    return sorted(str(p.relative_to(root)) for p in pathlib.Path(root).rglob("*") if p.is_file()
                  and "__pycache__" in p.parts)


SAXPY = """\
    from legionella.lang import f32, Buffer, global_id

    # legionella: kernel workgroup=(64,)
    def saxpy(a: f32, x: Buffer[f32], y: Buffer[f32]):
        i = global_id().x
        if i < len(y):
            y[i] = a * x[i] + y[i]
    """

DESCRIBE = """
import legionella.auto
from pkg import mod
k = mod.saxpy
report({"type": type(k).__name__, "id": k.id, "source": k.source, "options": {"workgroup": list(k.workgroup)},
        "filename": k.filename, "lineno": k.lineno, "qualname": k.qualname, "py_func": k.py_func.__name__,
        "loader": type(mod.__spec__.loader).__name__, "compiles": len(compiles)})
"""

