"""The bytecode cache of rewritten modules: checked-hash pycs (PEP 552) under Legionella's own tag.

A rewritten module is cached next to the ordinary pyc, as ``__pycache__/mod.cpython-311-legionella-0.1.0-r3.pyc``
(``sys.pycache_prefix`` and ``-O`` move and rename it the way they do ordinary pycs). The tag keeps the
rewritten code away from the interpreter's own pyc, and the version in it keeps a newer rewriter from
loading an older one's output.

The pyc records the SipHash of the source bytes (``importlib.util.source_hash``) and is used only when the
hash still matches: an edit within the same second, or one that keeps the size, is still seen (mtime-based
pycs miss those). Writes go to ``{pyc}.{pid}`` first and are then renamed over the pyc with ``os.replace``,
so concurrent importers never read half a file; a directory we cannot write to just means no cache.
Reads (of pycs here, of every module's source in the finder) go through :func:`read_file`, in as few
system calls as reading a file takes.
"""
import importlib.util
import marshal
import os
import sys
import types

from .. import __version__

REWRITE_REVISION = 3  # bump when the rewrite's output changes without a version change
TAG = f"{sys.implementation.cache_tag}-legionella-{__version__}-r{REWRITE_REVISION}"
CHECKED_HASH_FLAGS = 0b11  # PEP 552: bit 0 "hash-based", bit 1 "check the source"
HEADER_SIZE = 16
READ_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0)  # O_BINARY: no newline translation on Windows


def read_file(path):
    """The bytes of the file at ``path``, read in four system calls (open, fstat, read, close).

    The import hook reads every module's source and every cached pyc with it. ``open(path, "rb").read()``
    and ``importlib``'s ``get_data`` (``io.open_code``) make twice as many (a buffered reader asks for
    the block size, whether the file is a terminal, the position, and reads until an empty read), and a
    system call is the dearest part of a warm import. Raises ``OSError`` as ``open`` would, and raises
    the same ``open`` audit event; ``io.open_code`` hooks (PEP 578) are not consulted.
    """
    fd = os.open(path, READ_FLAGS)
    try:
        size = os.fstat(fd).st_size
        data = os.read(fd, size)
        while len(data) < size:  # a short read (rare, e.g. a signal): read on until the end
            more = os.read(fd, size - len(data))
            if not more:
                break
            data += more
        return data
    finally:
        os.close(fd)


def cache_path(source_path):
    """Where the rewritten bytecode of ``source_path`` lives, or None when this interpreter has no pycs."""
    if sys.implementation.cache_tag is None:
        return None
    head, name = os.path.split(source_path)
    stem = name.rpartition(".")[0]
    if sys.pycache_prefix is None and not sys.flags.optimize:
        # The common case, computed directly: cache_from_source costs as much as the rest of a cached
        # import's bookkeeping. tests/importer checks that both ways agree.
        return os.path.join(head, "__pycache__", f"{stem}.{TAG}.pyc")
    standard = importlib.util.cache_from_source(source_path)
    directory, standard_name = os.path.split(standard)
    after_tag = standard_name[len(stem) + 1 + len(sys.implementation.cache_tag):]  # ".opt-1.pyc" or ".pyc"
    return os.path.join(directory, f"{stem}.{TAG}{after_tag}")


def read(pyc_path, source_hash):
    """The code object cached at ``pyc_path`` for source with ``source_hash``, or None.

    A missing, stale, foreign or corrupt file is a miss, never an error."""
    try:
        data = read_file(pyc_path)
    except OSError:
        return None
    if (len(data) < HEADER_SIZE or data[:4] != importlib.util.MAGIC_NUMBER
            or int.from_bytes(data[4:8], "little") != CHECKED_HASH_FLAGS or data[8:16] != source_hash):
        return None
    try:
        code = marshal.loads(memoryview(data)[HEADER_SIZE:])
    except (EOFError, ValueError, TypeError):
        return None
    return code if isinstance(code, types.CodeType) else None


def write(pyc_path, code, source_hash):
    """Cache ``code`` at ``pyc_path`` atomically; return whether it was written.

    Honours ``sys.dont_write_bytecode`` (``PYTHONDONTWRITEBYTECODE``); a read-only or missing-permission
    directory returns False."""
    if sys.dont_write_bytecode:
        return False
    data = (importlib.util.MAGIC_NUMBER + CHECKED_HASH_FLAGS.to_bytes(4, "little") + source_hash
            + marshal.dumps(code))
    temporary = f"{pyc_path}.{os.getpid()}"
    try:
        os.makedirs(os.path.dirname(pyc_path), exist_ok=True)
        with open(temporary, "wb") as f:
            f.write(data)
        os.replace(temporary, pyc_path)
    except OSError:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        return False
    return True
