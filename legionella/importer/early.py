"""Warn about modules that hold markers but were imported before the hook was installed.

Such a module's kernels are plain functions, which otherwise shows up much later as a confusing
``'function' object is not subscriptable`` at the first launch.
"""
import importlib.machinery
import os
import sys
import warnings

from ..kernel import Kernel
from ..lang.binding import BindingDecl
from ..lang.types import BufferType
from .markers import MARKER_BYTES, comment_markers
from .rewrite import definition_source, marked_statements


class MarkersNotRewrittenWarning(UserWarning):
    """A module with ``# legionella:`` markers was imported before ``import legionella.auto``."""


def warn_about_early_imports():
    """Warn once for each module in ``sys.modules`` loaded plainly although its source holds markers.

    Cheap: only plain ``SourceFileLoader`` modules outside the standard library are read, with a bytes
    search first and a tokenize scan only for files that contain the marker bytes. The warning points
    at the first marker of the module."""
    for name, path in plain_source_modules():
        source = marked_source(path)
        if source is None or (name == "__main__" and bind_script_markers(sys.modules[name], source, path)):
            continue
        first_marker = first_marker_line(source)
        if first_marker is not None:
            warnings.warn_explicit(
                f"module {name!r} holds '# legionella:' markers but was imported before "
                "'import legionella.auto', so its kernels are plain functions; import legionella.auto "
                "first (or importlib.reload the module; in a script, after its kernels), or use the "
                "@legionella.kernel decorator",
                MarkersNotRewrittenWarning, path, first_marker, module=name)


def bind_script_markers(module, source, path):
    """Do for a running script (``__main__``) what the rewrite does for an imported module.

    A script cannot be rewritten at import, since it is already running; but ``import legionella.auto``
    placed after its definitions (in the ``if __name__ == "__main__":`` block) finds them and binds, in
    place, each marked function to a :class:`~legionella.kernel.Kernel` and each marked ``NAME = Buffer[T]``
    to a :class:`~legionella.lang.binding.BindingDecl`. Returns True when every marker of the script was
    bound, False when some marked statement has not run yet (then the caller warns).
    """
    bound = True
    for statement, marker, lines in marked_statements(source, path):
        bind = BIND_IN_SCRIPT[marker.kind]
        bound = bind(module, statement, marker, lines, path) and bound
    return bound


def bind_script_kernel(module, statement, marker, lines, path):
    node = statement.node
    function = module.__dict__.get(node.name) if statement.prefix == "" else None
    if isinstance(function, Kernel):
        return True
    first, snapshot = definition_source(node, lines)
    code = getattr(function, "__code__", None)
    if code is None or code.co_filename != path or code.co_firstlineno not in (first, node.lineno):
        return False
    setattr(module, node.name, Kernel(function, snapshot, dict(marker.options), first, node.name))
    return True


def bind_script_binding(module, statement, marker, lines, path):
    name = statement.node.targets[0].id
    value = module.__dict__.get(name)
    if isinstance(value, BindingDecl):
        return True
    if not isinstance(value, BufferType):
        return False
    setattr(module, name, BindingDecl(value, name=name, module=module.__name__,
                                      descriptor_set=marker.options["set"], binding=marker.options["binding"],
                                      filename=path, lineno=statement.node.lineno))
    return True


BIND_IN_SCRIPT = {"kernel": bind_script_kernel, "binding": bind_script_binding}


def plain_source_modules():
    """``(name, path)`` of every imported module, Legionella's and the standard library's aside, loaded
    from a .py file by the ordinary loader."""
    stdlib = os.path.dirname(os.__file__) + os.sep  # (sysconfig would say the same, in milliseconds)
    for name, module in list(sys.modules.items()):
        if name.partition(".")[0] == "legionella":
            continue  # our own modules mention the marker in strings; tokenizing them would cost milliseconds
        spec = getattr(module, "__spec__", None)
        if spec is not None:
            if type(spec.loader) is not importlib.machinery.SourceFileLoader:
                continue
            path = spec.origin
        else:  # a script run as __main__ has no spec
            path = getattr(module, "__file__", None)
        if isinstance(path, str) and path.endswith(".py") and not in_standard_library(path, stdlib):
            yield name, path


def in_standard_library(path, stdlib):
    """Whether ``path`` is in the standard library directory ``stdlib``, but not in the ``site-packages``
    (or Debian's ``dist-packages``) that a Python installed without a virtual environment keeps inside it."""
    return path.startswith(stdlib) and not path[len(stdlib):].partition(os.sep)[0].endswith("-packages")


def marked_source(path):
    """The bytes of the file at ``path`` when they hold the marker bytes, else None (also when unreadable)."""
    try:
        with open(path, "rb") as f:
            source = f.read()
    except OSError:
        return None
    return source if MARKER_BYTES in source else None


def first_marker_line(source):
    """The line of the first marker comment in ``source`` (bytes), or None."""
    try:
        return next((lineno for lineno, _, _ in comment_markers(source)), None)
    except SyntaxError:  # tokenize's complaint about a file that changed since it was imported
        return None
