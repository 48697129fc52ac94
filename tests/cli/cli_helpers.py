"""Running the ``legionella`` command and Python snippets in fresh processes, for the CLI tests.

The children use the default device (``LEGIONELLA_DEVICE`` is dropped); :func:`default_device` is that
device, so a test can say what the child prints on this machine (lavapipe here, a GPU elsewhere).
"""
import pathlib
import subprocess
import sys

from legionella.runtime import vkdevice
from subprocess_env import REPO, child_env

CHECKED_CLI = pathlib.Path(__file__).with_name("checked_cli.py")


def environment(cache_dir, **extra):
    """The environment of a child process: the repository importable (ahead of the caller's PYTHONPATH,
    which is kept), the given disk cache, validation on, the default device."""
    env = child_env(LEGIONELLA_CACHE_DIR=str(cache_dir), LEGIONELLA_VALIDATION="1", **extra)
    env.pop("LEGIONELLA_DEVICE", None)
    return env


def default_device():
    """The device a child started with :func:`environment` uses: the preferred one on this machine."""
    return vkdevice.default_device(vkdevice.devices())


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
