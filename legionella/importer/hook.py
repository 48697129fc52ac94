"""The meta-path finder and loader that rewrite modules holding ``# legionella:`` markers.

The finder sits just before the standard :class:`~importlib.machinery.PathFinder` and asks it for the spec,
so finding costs nothing extra. It takes over only specs whose loader is exactly ``SourceFileLoader`` (not
extension modules, zip imports, or another tool's loader) and whose source bytes contain ``# legionella:``;
that bytes search is the whole cost for every other module. Everything else is returned as found.
"""
import _imp
import importlib.machinery
import importlib.util
import sys
import threading

from . import cache
from .markers import MARKER_BYTES
from .rewrite import compile_module

PathFinder = importlib.machinery.PathFinder
SourceFileLoader = importlib.machinery.SourceFileLoader


class LegionellaLoader(SourceFileLoader):
    """Loads a module with markers: rewritten code from the cache, or rewritten and compiled now.

    ``source`` is the bytes the finder already read, used once so the file is not read twice per import;
    any later ``get_code`` (runpy, a second load through this loader) reads the file afresh."""

    def __init__(self, fullname, path, *, source=None, pyc_path=None):
        super().__init__(fullname, path)
        self._source = source
        self.pyc_path = pyc_path

    def get_code(self, fullname):
        source, self._source = self._source, None
        if source is None:
            source = cache.read_file(self.path)
        source_hash = importlib.util.source_hash(source)
        code = cache.read(self.pyc_path, source_hash) if self.pyc_path else None
        if code is not None:
            # As importlib does for its own pycs: the tree may have moved since the pyc was written.
            _imp._fix_co_filename(code, self.path)
            return code
        code = compile_module(source, self.path)
        if self.pyc_path:
            cache.write(self.pyc_path, code, source_hash)
        return code


class LegionellaFinder:
    """A meta-path finder: ``PathFinder``'s spec, with :class:`LegionellaLoader` where markers may be."""

    def find_spec(self, fullname, path=None, target=None):
        spec = PathFinder.find_spec(fullname, path, target)
        if spec is None or type(spec.loader) is not SourceFileLoader:
            return spec
        try:
            source = cache.read_file(spec.origin)
        except OSError:
            return spec  # the ordinary loader reports it
        if MARKER_BYTES in source:
            spec.cached = cache.cache_path(spec.origin)
            spec.loader = LegionellaLoader(fullname, spec.origin, source=source, pyc_path=spec.cached)
        return spec

    def invalidate_caches(self):
        """Nothing of ours to invalidate (``PathFinder`` keeps its own caches)."""


class ImportHook:
    """A handle on the installed hook: ``uninstall()``, or leave a ``with`` block.

    The hook stays on ``sys.meta_path`` while any handle is installed, so ``import legionella.auto`` and a
    ``with install():`` block elsewhere do not undo each other.

    >>> with install():
    ...     import examples.saxpy   # doctest: +SKIP
    """

    def __init__(self):
        self.installed = True

    def uninstall(self):
        """Release this handle; the finder leaves ``sys.meta_path`` with the last one. Idempotent."""
        with _lock:
            if self.installed:
                self.installed = False
                _handles.discard(self)
                if not _handles and _FINDER in sys.meta_path:
                    sys.meta_path.remove(_FINDER)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.uninstall()

    def __repr__(self):
        return f"<legionella ImportHook {'installed' if self.installed else 'uninstalled'}>"


_FINDER = LegionellaFinder()
_handles = set()
_lock = threading.Lock()


def install():
    """Install the import hook (once, however often called) and return an :class:`ImportHook` handle.

    >>> hook = install()
    >>> hook.uninstall()
    """
    with _lock:
        if _FINDER not in sys.meta_path:
            position = next((i for i, finder in enumerate(sys.meta_path)
                             if finder is PathFinder), len(sys.meta_path))
            sys.meta_path.insert(position, _FINDER)
        handle = ImportHook()
        _handles.add(handle)
        return handle


def is_installed():
    """Whether the hook is on ``sys.meta_path`` now."""
    return _FINDER in sys.meta_path
