"""What a test needs to start a fresh Python process that sees what the test sees, on any machine.

* The child runs ``sys.executable`` (the interpreter running the tests, whatever environment it is in).
* The child's ``PYTHONPATH`` puts the given directories and the repository first, then keeps the caller's
  own: on some machines the caller's PYTHONPATH is how the project's dependencies (the ``vulkan``
  binding, say) are found, with no virtual environment at all, so it is extended, never replaced.
* The ``legionella`` console script is looked for next to ``sys.executable``, then on PATH; a test that
  needs it skips when it is not installed.
* Which device the child will use by default is computed here with the runtime's own rules, so a test
  can say what the child must print on this machine instead of assuming lavapipe.
"""
import os
import pathlib
import shutil
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]
TESTS = REPO / "tests"


def python_path(*first):
    """A PYTHONPATH value: ``first`` (directories), the repository, then the caller's PYTHONPATH entries.

    >>> python_path("/tmp/pkg").split(os.pathsep)[:2] == ["/tmp/pkg", str(REPO)]
    True
    """
    inherited = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return os.pathsep.join([*map(str, first), str(REPO), *inherited])


def child_env(*first, base=None, **variables):
    """The environment of a child process: ``base`` (default ``os.environ``) plus ``variables``, with
    ``first`` and the repository put in front of the inherited PYTHONPATH."""
    env = dict(os.environ if base is None else base, **variables)
    env["PYTHONPATH"] = python_path(*first)
    return env


def console_script(name="legionella"):
    """The path of the installed console script ``name``: next to ``sys.executable`` (the same
    environment as the tests), else on PATH; None when it is not installed."""
    beside = pathlib.Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which(name)


def device_of_a_fresh_process(env=None):
    """The device a new process with environment ``env`` (default ``os.environ``) uses when it names
    none in code: ``LEGIONELLA_DEVICE``'s choice, else the preferred device (``vkdevice.device``'s rules)."""
    from legionella.runtime import vkdevice
    choice = (os.environ if env is None else env).get("LEGIONELLA_DEVICE", "").strip()
    return vkdevice.find_device(choice) if choice else vkdevice.default_device(vkdevice.devices())
