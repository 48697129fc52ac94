"""The ``legionella`` command line: help, devices, disasm, cache, and bad arguments (one line, no traceback)."""
import subprocess
import sys

import pytest

from cli_helpers import REPO, assert_one_line_error, default_device, environment, run_cli
from legionella import cli
from legionella.runtime import vkdevice
from subprocess_env import console_script

SUBCOMMANDS = ("devices", "demo", "build", "disasm", "cache")


# --- help and argument errors, in process (argparse exits through SystemExit) ---------------------------------
@pytest.mark.parametrize("argv", [["--help"], *([name, "--help"] for name in SUBCOMMANDS)])
def test_help_everywhere(argv, capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    assert exited.value.code == 0
    usage = capsys.readouterr().out
    assert usage.startswith("usage: legionella" + (f" {argv[0]}" if argv[0] != "--help" else ""))


def test_top_level_help_lists_every_command(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    usage = capsys.readouterr().out
    assert all(name in usage for name in SUBCOMMANDS)


@pytest.mark.parametrize("argv, fragment", [
    ([], "the following arguments are required: COMMAND"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["cache"], "the following arguments are required: action"),
    (["cache", "wipe"], "invalid choice: 'wipe'"),
    (["build"], "the following arguments are required: MODULE"),
    (["demo", "--colour"], "unrecognized arguments: --colour"),
])
def test_bad_command_lines_are_one_line(argv, fragment, capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    assert exited.value.code == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("legionella: error: "), captured.err
    assert fragment in lines[0] and lines[0].endswith(" --help')"), lines[0]
    assert captured.out == ""


# --- the real command, in fresh processes ----------------------------------------------------------------------
def test_python_dash_m_and_the_console_script_are_the_same_command(tmp_path):
    script = console_script("legionella")
    if script is None:
        pytest.skip(f"no `legionella` console script next to {sys.executable} or on PATH (the project is "
                    "not pip-installed in this environment)")
    env = environment(tmp_path)
    by_module = subprocess.run([sys.executable, "-m", "legionella", "--help"], capture_output=True, text=True,
                               env=env, cwd=REPO)
    by_script = subprocess.run([script, "--help"], capture_output=True, text=True, env=env, cwd=REPO)
    assert by_module.returncode == by_script.returncode == 0
    assert by_module.stdout == by_script.stdout and by_module.stdout.startswith("usage: legionella")


def test_a_bad_command_line_in_a_real_process_is_one_line(tmp_path):
    run = subprocess.run([sys.executable, "-m", "legionella", "cache", "wipe"], capture_output=True, text=True,
                         env=environment(tmp_path), cwd=REPO)
    assert run.returncode == 2
    assert_one_line_error(run, "invalid choice: 'wipe'")


def test_devices_lists_every_device_and_marks_the_default(tmp_path):
    """By the name Vulkan reports: ``[0] llvmpipe (LLVM 15.0.6, 256 bits) (default)`` on lavapipe."""
    run = run_cli(tmp_path, "devices")
    assert run.returncode == 0, run.stderr
    listed = [line for line in run.stdout.splitlines() if line.startswith("[")]
    assert listed == [f"[{d.index}] {d.name}" + (" (default)" if d is default_device() else "")
                      for d in vkdevice.devices()], run.stdout


def test_disasm_prints_the_devices_spirv(tmp_path):
    run = run_cli(tmp_path, "disasm", "examples.saxpy:saxpy")
    assert run.returncode == 0, run.stderr
    text = run.stdout
    assert text.startswith("; SPIR-V\n; Version: 1.")
    assert 'OpEntryPoint GLCompute %' in text and 'OpExecutionMode %' in text and "LocalSize 256 1 1" in text
    assert 'OpName %' in text and '"saxpy"' in text and "OpFunctionEnd" in text


def test_disasm_generic_needs_no_device_and_targets_spirv_1_3(tmp_path):
    run = run_cli(tmp_path, "disasm", "--generic", "examples/heat.py:jacobi_step")
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("; SPIR-V\n; Version: 1.3\n")
    code = ("from legionella.runtime import disassemble_target, has_current_device; "
            "disassemble_target('examples.heat:jacobi_step', generic=True); print(has_current_device())")
    probe = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment(tmp_path),
                           cwd=REPO)
    assert probe.stdout == "False\n", probe.stderr


def test_disasm_goes_through_the_disk_cache(tmp_path):
    assert run_cli(tmp_path, "build", "examples.saxpy").returncode == 0
    code = ("import legionella as lg; from legionella.runtime import disassemble_target; "
            "text = disassemble_target('examples.saxpy:saxpy'); print(lg.stats()['codegen'], lg.stats()['disk_hits'])")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment(tmp_path),
                         cwd=REPO)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["0", "1"]


@pytest.mark.parametrize("target, fragments", [
    ("examples.saxpy", ("expected MODULE:KERNEL, like examples.saxpy:saxpy; got 'examples.saxpy'",)),
    ("examples.saxpy:main", ("module 'examples.saxpy' has no kernel 'main'", "its kernels: saxpy")),
    ("examples.saxpy:nope", ("module 'examples.saxpy' has no attribute 'nope'",)),
    ("no_such_module:k", ("cannot import module 'no_such_module'",)),
    ("examples:saxpy", ("'examples' is a directory; name one module",)),
])
def test_disasm_errors_are_one_line(tmp_path, target, fragments):
    assert_one_line_error(run_cli(tmp_path, "disasm", target), *fragments)


def test_disasm_into_a_closed_pipe_is_quiet(tmp_path):
    pipeline = subprocess.run(f"'{sys.executable}' -m legionella disasm examples.saxpy:saxpy | head -n 1",
                              shell=True, capture_output=True, text=True, env=environment(tmp_path), cwd=REPO)
    assert pipeline.stdout == "; SPIR-V\n"
    assert pipeline.stderr == ""


def test_cache_info_and_clear(tmp_path):
    cache = tmp_path / "cache"
    empty = run_cli(cache, "cache", "info")
    assert empty.returncode == 0 and "compiled kernels: 0" in empty.stdout and str(cache) in empty.stdout
    assert run_cli(cache, "build", "examples.saxpy", "examples.heat").returncode == 0
    info = run_cli(cache, "cache", "info")
    assert "compiled kernels: 2" in info.stdout and "pipeline caches: 1" in info.stdout
    cleared = run_cli(cache, "cache", "clear")
    assert cleared.returncode == 0 and cleared.stdout.startswith("removed 3 entries")
    assert "compiled kernels: 0" in run_cli(cache, "cache", "info").stdout


@pytest.mark.parametrize("command", ["demo", "devices"])
def test_no_usable_vulkan_driver_says_how_to_install_lavapipe(command, tmp_path):
    env = dict(environment(tmp_path), VK_DRIVER_FILES=str(tmp_path / "no-such-icd.json"),
               LEGIONELLA_VALIDATION="0")
    run = subprocess.run([sys.executable, "-m", "legionella", command, *(["--out", tmp_path] if command == "demo"
                                                                         else [])],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert "apt-get install mesa-vulkan-drivers" in run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    if command == "demo":
        assert_one_line_error(run, "no Vulkan driver")
