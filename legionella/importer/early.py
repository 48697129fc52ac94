"""Warn about modules that hold markers but were imported before the hook was installed.

Such a module's kernels are plain functions, which otherwise shows up much later as a confusing
``'function' object is not subscriptable`` at the first launch.
"""
import importlib.machinery
import os
import sys
import warnings

from .markers import MARKER_BYTES, comment_markers


class MarkersNotRewrittenWarning(UserWarning):
    """A module with ``# legionella:`` markers was imported before ``import legionella.auto``."""


def warn_about_early_imports():
    """Warn once for each module in ``sys.modules`` loaded plainly although its source holds markers.

    Cheap: only plain ``SourceFileLoader`` modules outside the standard library are read, with a bytes
    search first and a tokenize scan only for files that contain the marker bytes. The warning points
    at the first marker of the module."""
    for name, path in plain_source_modules():
        first_marker = first_marker_line(path)
        if first_marker is not None:
            warnings.warn_explicit(
                f"module {name!r} holds '# legionella:' markers but was imported before "
                "'import legionella.auto', so its kernels are plain functions; import legionella.auto "
                "first (or importlib.reload the module), or use the @legionella.kernel decorator",
                MarkersNotRewrittenWarning, path, first_marker, module=name)


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


def first_marker_line(path):
    """The line of the first marker comment in the file at ``path``, or None (also for unreadable files)."""
    try:
        with open(path, "rb") as f:
            source = f.read()
    except OSError:
        return None
    if MARKER_BYTES not in source:
        return None
    try:
        return next((lineno for lineno, _, _ in comment_markers(source)), None)
    except SyntaxError:  # tokenize's complaint about a file that changed since it was imported
        return None
