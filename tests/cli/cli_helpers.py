"""Running the ``legionella`` command and Python snippets in fresh processes, for the CLI tests."""
import os
import pathlib
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[2]
CHECKED_CLI = pathlib.Path(__file__).with_name("checked_cli.py")


def environment(cache_dir, **extra):
    """The environment of a child process: the repository importable, the given disk cache, validation on."""
    env = dict(os.environ, LEGIONELLA_CACHE_DIR=str(cache_dir), LEGIONELLA_VALIDATION="1", **extra)
    env.pop("LEGIONELLA_DEVICE", None)
    return env


def run_cli(cache_dir, *args, cwd=REPO, timeout=240):
    """``legionella ARGS`` in a fresh process (through checked_cli.py, so spirv-val and the validation
    layer watch it); returns the CompletedProcess with text stdout and stderr."""
    return subprocess.run([sys.executable, str(CHECKED_CLI), *map(str, args)], cwd=cwd, env=environment(cache_dir),
                          capture_output=True, text=True, timeout=timeout)


def run_python(cache_dir, code, cwd=REPO, timeout=240):
    """``python -c CODE`` in a fresh process."""
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=environment(cache_dir),
                          capture_output=True, text=True, timeout=timeout)


def assert_one_line_error(run, *fragments):
    """The run failed with one ``legionella: error:`` line on stderr holding ``fragments``, no traceback."""
    assert run.returncode != 0, run.stdout
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("legionella: error: "), run.stderr
    assert "Traceback" not in run.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
