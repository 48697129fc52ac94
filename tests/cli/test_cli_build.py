"""``legionella build``: ahead-of-time codegen into the disk cache, so a later process compiles nothing."""
import json
import textwrap

import pytest

from cli_helpers import REPO, assert_one_line_error, default_device, run_cli, run_python

# Every module of examples/, each with one kernel (tests/examples checks that each runs, by its name).
EXAMPLES = tuple(sorted(path.stem for path in (REPO / "examples").glob("*.py") if path.stem != "__init__"))

FILL = textwrap.dedent('''
    from legionella.lang import Buffer, f32, global_id


    # legionella: kernel
    def fill(a: Buffer[f32], v: f32):
        i = global_id().x
        if i < len(a):
            a[i] = v
''')

UNSUPPORTED = FILL + textwrap.dedent('''

    # legionella: kernel
    def uses_a_dict(a: Buffer[f32]):
        d = {}
        a[0] = 1.0
''')


def write_package(root, modules):
    """A package ``pkg`` under ``root`` with ``modules`` ({name: source}); returns its directory."""
    pkg = root / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    for name, source in modules.items():
        (pkg / f"{name}.py").write_text(source)
    return pkg


def run_examples_and_count(cache):
    """A fresh process that runs each example's main() (which checks its result) and reports lg.stats()
    as JSON on its last line."""
    code = "\n".join(["import json, legionella.auto, legionella as lg",
                      *(f"from examples import {name}; {name}.main()" for name in EXAMPLES),
                      "print(json.dumps(lg.stats()))"])
    return run_python(cache, code)


def test_built_examples_launch_with_zero_codegen_in_a_later_process(tmp_path):
    # The directory's modules are imported under their package name, as `from examples import saxpy` does.
    build = run_cli(tmp_path, "build", "examples/")
    assert build.returncode == 0, build.stderr
    # For the default device, by its Vulkan name: "built 8 kernels for llvmpipe (LLVM 15.0.6, 256 bits): " here.
    assert f"built {len(EXAMPLES)} kernels for {default_device().name}: " in build.stdout
    assert f"{len(EXAMPLES)} compiled, 0 already cached" in build.stdout
    for kernel in ("examples.saxpy:saxpy", "examples.heat:jacobi_step", "examples.reduction:block_sum"):
        assert any(line.startswith(kernel) and "compiled" in line for line in build.stdout.splitlines())

    later = run_examples_and_count(tmp_path)
    assert later.returncode == 0, later.stderr
    counters = json.loads(later.stdout.strip().splitlines()[-1])
    assert counters["codegen"] == 0 and counters["disk_hits"] == len(EXAMPLES), counters


def test_dotted_names_and_paths_name_the_same_modules(tmp_path):
    build = run_cli(tmp_path, "build", "examples/saxpy.py", "examples.heat")
    assert build.returncode == 0, build.stderr
    again = run_cli(tmp_path, "build", "examples.saxpy", "examples/heat.py")
    assert "0 compiled, 2 already cached" in again.stdout, again.stdout


def test_without_a_build_the_same_process_compiles_every_kernel(tmp_path):
    # The counterpart of the test above: the zero there comes from the build.
    run = run_examples_and_count(tmp_path)
    assert run.returncode == 0, run.stderr
    counters = json.loads(run.stdout.strip().splitlines()[-1])
    assert counters["codegen"] == len(EXAMPLES) and counters["disk_hits"] == 0, counters


def test_building_again_finds_everything_cached(tmp_path):
    assert run_cli(tmp_path, "build", "examples.saxpy").returncode == 0
    again = run_cli(tmp_path, "build", "examples.saxpy")
    assert again.returncode == 0, again.stderr
    assert "0 compiled, 1 already cached" in again.stdout
    assert again.stdout.splitlines()[0].split()[:2] == ["examples.saxpy:saxpy", "cached"]


def test_a_directory_builds_every_module_under_it(tmp_path):
    write_package(tmp_path, {"one": FILL, "two": FILL.replace("def fill", "def fill_too"), "plain": "X = 1\n"})
    run = run_cli(tmp_path / "cache", "build", "pkg", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "built 2 kernels" in run.stdout
    assert "pkg.one:fill " in run.stdout and "pkg.two:fill_too " in run.stdout


def test_progress_bar_on_stderr(tmp_path):
    run = run_cli(tmp_path, "build", "--progress", "examples.saxpy")
    assert run.returncode == 0, run.stderr
    # (text mode reads the bar's carriage returns as line ends)
    assert "[" + "." * 30 + "] 0/1 examples.saxpy:saxpy" in run.stderr
    assert "[" + "#" * 30 + "] 1/1 examples.saxpy:saxpy" in run.stderr
    quiet = run_cli(tmp_path, "build", "examples.saxpy")
    assert quiet.stderr == ""  # not a terminal and no --progress: no bar


def test_a_kernel_that_does_not_compile_is_reported_and_the_others_are_built(tmp_path):
    write_package(tmp_path, {"mixed": UNSUPPORTED})
    run = run_cli(tmp_path / "cache", "build", "pkg/mixed.py", cwd=tmp_path)
    assert run.returncode == 1
    assert "pkg.mixed:fill " in run.stdout and "built 1 kernel " in run.stdout
    assert run.stderr.startswith("legionella: error: pkg.mixed:uses_a_dict: ")
    line = UNSUPPORTED.splitlines().index("    d = {}") + 1
    assert f"mixed.py:{line}:9: dicts are not supported" in run.stderr and "Traceback" not in run.stderr


def test_a_module_that_cannot_be_imported_is_reported_and_the_others_are_built(tmp_path):
    write_package(tmp_path, {"good": FILL, "bad": "import no_such_module_here\n"})
    run = run_cli(tmp_path / "cache", "build", "pkg", cwd=tmp_path)
    assert run.returncode == 1
    assert "pkg.good:fill " in run.stdout
    assert_one_line_error(run, "cannot import module 'pkg.bad'", "no_such_module_here")


@pytest.mark.parametrize("args, fragments", [
    (("no_such_module",), ("cannot import module 'no_such_module'",)),
    (("no/such/file.py",), ("no such file or directory: no/such/file.py",)),
    (("legionella.errors",), ("no kernels found in legionella.errors",)),
])
def test_bad_modules_are_one_line_errors(tmp_path, args, fragments):
    run = run_cli(tmp_path, "build", *args)
    assert_one_line_error(run, *fragments)
    assert run.stdout == ""


def test_a_syntax_error_names_file_and_line(tmp_path):
    source = FILL + "\ndef oops(:\n"
    write_package(tmp_path, {"broken": source})
    run = run_cli(tmp_path / "cache", "build", "pkg.broken", cwd=tmp_path)
    assert_one_line_error(run, "invalid syntax", "broken.py", f"line {source.splitlines().index('def oops(:') + 1}")


def test_a_module_whose_code_raises_is_one_line(tmp_path):
    write_package(tmp_path, {"raises": FILL + "\nraise RuntimeError('configuration missing')\n"})
    run = run_cli(tmp_path / "cache", "build", "pkg.raises", cwd=tmp_path)
    assert_one_line_error(run, "importing module 'pkg.raises' failed: RuntimeError: configuration missing")
