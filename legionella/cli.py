"""The ``legionella`` command (also ``python -m legionella``).

Each sub-command is a small function; the work lives in the packages. A user error prints one line
(``legionella: error: ...``) and exits with status 1, never a traceback.
"""
import argparse
import sys

from .errors import LegionellaError


def cmd_devices(args):
    from . import runtime
    print(runtime.describe_devices())


def cmd_demo(args):
    from . import demo
    return demo.main(out_dir=args.out, device=args.device)


def cmd_build(args):
    from . import runtime
    return runtime.build_modules(args.modules, progress=sys.stderr.isatty() or args.progress)


def cmd_disasm(args):
    from . import runtime
    print(runtime.disassemble_target(args.target))


def cmd_cache(args):
    from . import runtime
    print(runtime.cache_command(args.action))


def build_parser():
    parser = argparse.ArgumentParser(prog="legionella", description="Single-source GPU programming in Python.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("devices", help="list the Vulkan devices and the features kernels care about")
    p.set_defaults(func=cmd_devices)
    p = sub.add_parser("demo", help="run a short showcase on the default device")
    p.add_argument("--out", default=".", help="directory for mandelbrot.png and heat.png (default: .)")
    p.add_argument("--device", default=None, help="device index or name substring (like LEGIONELLA_DEVICE)")
    p.set_defaults(func=cmd_demo)
    p = sub.add_parser("build", help="compile every kernel of the given modules into the cache, ahead of time")
    p.add_argument("modules", nargs="+", help="module names (pkg.mod) or paths to .py files")
    p.add_argument("--progress", action="store_true", help="show the progress bar even when not on a terminal")
    p.set_defaults(func=cmd_build)
    p = sub.add_parser("disasm", help="print the SPIR-V of one kernel as text")
    p.add_argument("target", metavar="MODULE:KERNEL")
    p.set_defaults(func=cmd_disasm)
    p = sub.add_parser("cache", help="show or clear the on-disk kernel cache")
    p.add_argument("action", choices=("info", "clear"))
    p.set_defaults(func=cmd_cache)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except (LegionellaError, ImportError, OSError, ValueError, TypeError) as e:
        print(f"legionella: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
