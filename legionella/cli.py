"""The ``legionella`` command (also ``python -m legionella``).

Each sub-command is a small function; the work lives in the packages. A user error, including a bad
command line, prints one line (``legionella: error: ...``) and exits with a non-zero status, never a
traceback.

    legionella devices                      the Vulkan devices and their features
    legionella demo [--out DIR]             a short showcase with timings; writes two PNGs
    legionella build MODULE...              compile every kernel of the modules into the disk cache
    legionella disasm MODULE:KERNEL         the SPIR-V of one kernel, as text
    legionella cache info|clear             the on-disk kernel cache
"""
import argparse
import os
import sys

from .errors import LegionellaError

# What a user can cause; anything else escaping is a bug in Legionella and keeps its traceback.
USER_ERRORS = (LegionellaError, ImportError, SyntaxError, OSError, ValueError, TypeError)
DEVICE_HELP = "device index or name substring (default: LEGIONELLA_DEVICE, else the best device)"


def _choose_device(spec):
    if spec is not None:
        from . import runtime
        runtime.set_device(spec)


def cmd_devices(args):
    """``legionella devices``: the Vulkan devices and the features kernels care about."""
    from . import runtime
    print(runtime.describe_devices())


def cmd_demo(args):
    """``legionella demo``: the showcase report on the default (or chosen) device."""
    from . import demo
    return demo.main(out_dir=args.out, device=args.device)


def cmd_build(args):
    """``legionella build MODULE...``: compile every kernel of the modules into the disk cache."""
    from . import runtime
    _choose_device(args.device)
    return runtime.build_modules(args.modules, progress=sys.stderr.isatty() or args.progress)


def cmd_disasm(args):
    """``legionella disasm MODULE:KERNEL``: the kernel's SPIR-V as text."""
    from . import runtime
    if not args.generic:
        _choose_device(args.device)
    print(runtime.disassemble_target(args.target, generic=args.generic))


def cmd_cache(args):
    """``legionella cache info|clear``."""
    from . import runtime
    print(runtime.cache_command(args.action))


class Parser(argparse.ArgumentParser):
    """argparse, with a bad command line reported in one line (argparse prints the usage first)."""

    def error(self, message):
        self.exit(2, f"legionella: error: {message} (see '{self.prog} --help')\n")


def build_parser():
    """The argument parser of the ``legionella`` command."""
    parser = Parser(prog="legionella", description="Single-source GPU programming in Python.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)
    p = sub.add_parser("devices", help="list the Vulkan devices and the features kernels care about")
    p.set_defaults(func=cmd_devices)
    p = sub.add_parser("demo", help="run a short showcase on the default device",
                       description="Runs saxpy, mandelbrot, heat diffusion and a reduction, checks their "
                                   "results and prints codegen and kernel times; writes mandelbrot.png and heat.png.")
    p.add_argument("--out", default=".", metavar="DIR", help="directory for mandelbrot.png and heat.png (default: .)")
    p.add_argument("--device", default=None, help=DEVICE_HELP)
    p.set_defaults(func=cmd_demo)
    p = sub.add_parser("build", help="compile every kernel of the given modules into the cache, ahead of time",
                       description="Imports the modules with the import hook and compiles every kernel they "
                                   "define for the device into the disk cache, so later processes launch them "
                                   "with no codegen.")
    p.add_argument("modules", nargs="+", metavar="MODULE",
                   help="a module name (pkg.mod), a path to a .py file, or a directory (every module under it)")
    p.add_argument("--device", default=None, help=DEVICE_HELP)
    p.add_argument("--progress", action="store_true", help="show the progress bar even when not on a terminal")
    p.set_defaults(func=cmd_build)
    p = sub.add_parser("disasm", help="print the SPIR-V of one kernel as text",
                       description="Prints the SPIR-V the device runs for one kernel, as text close to spirv-dis.")
    p.add_argument("target", metavar="MODULE:KERNEL", help="like examples.saxpy:saxpy or examples/saxpy.py:saxpy")
    p.add_argument("--device", default=None, help=DEVICE_HELP)
    p.add_argument("--generic", action="store_true",
                   help="compile for a conservative Vulkan 1.1 device instead (no Vulkan needed)")
    p.set_defaults(func=cmd_disasm)
    p = sub.add_parser("cache", help="show or clear the on-disk kernel cache",
                       description="The cache lives in LEGIONELLA_CACHE_DIR (default $XDG_CACHE_HOME/legionella, "
                                   "else ~/.cache/legionella).")
    p.add_argument("action", choices=("info", "clear"))
    p.set_defaults(func=cmd_cache)
    return parser


def message(error):
    """What the one error line says about ``error``: its text, but a ``SyntaxError`` with its file's whole
    path (its ``str`` names only the basename, which does not tell ``pkg/a/util.py`` from ``pkg/b/util.py``).

    >>> message(SyntaxError("invalid syntax", ("/src/pkg/mod.py", 3, 9, "def f(:\\n")))
    'invalid syntax (/src/pkg/mod.py, line 3)'
    """
    if isinstance(error, SyntaxError) and error.filename is not None:
        return f"{error.msg} ({error.filename}, line {error.lineno})"
    return str(error)


def _quiet_stdout():
    """After a closed pipe (``legionella disasm ... | head``), point stdout at /dev/null so the
    interpreter's final flush does not fail too."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def main(argv=None):
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except BrokenPipeError:
        _quiet_stdout()
        return 1
    except USER_ERRORS as e:
        print(f"legionella: error: {message(e)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
