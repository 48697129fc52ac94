"""The compiler's own identity, for cache keys: a hash over the source of every module that decides what
code a kernel compiles to (the compiler, the SPIR-V emitter and the kernel language).

A version number alone is not enough: a change to the compiler between releases (or in a checkout)
must not let an old cached binary through.
"""
import functools
import hashlib
import pathlib

_PACKAGES = ("compiler", "spirv", "lang")


@functools.lru_cache(maxsize=None)
def compiler_fingerprint():
    """A hex digest over the compiler's, emitter's and language's source files (computed once)."""
    root = pathlib.Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for package in _PACKAGES:
        for path in sorted((root / package).glob("*.py")):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
