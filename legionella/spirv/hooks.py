"""Observers of every SPIR-V binary the builder produces.

The test suite registers one that runs ``spirv-val`` on each module a test produced; nothing else in
the package uses it. Observers are called with the module's bytes and must not raise.
"""
_observers = []


def add_observer(fn):
    """Call ``fn(spirv_bytes)`` for every module assembled from now on; returns a function that removes it."""
    _observers.append(fn)
    return lambda: _observers.remove(fn)


def notify(spirv_bytes):
    """Called by the builder with each assembled module."""
    for fn in list(_observers):
        fn(spirv_bytes)
