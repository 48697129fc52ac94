"""The import hook: modules with ``# legionella:`` markers are rewritten as they are imported.

``import legionella.auto`` installs it for the whole program; :func:`install` does it explicitly and
returns a handle (also a context manager) to take it out again. See ``docs/importer.md``.

>>> from legionella.importer import install
>>> with install():
...     import examples.saxpy          # doctest: +SKIP
>>> examples.saxpy.saxpy.id            # doctest: +SKIP
'examples.saxpy:saxpy#...'
"""
from .early import MarkersNotRewrittenWarning, warn_about_early_imports  # noqa: F401
from .hook import ImportHook, install, is_installed  # noqa: F401
