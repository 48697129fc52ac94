"""Validation-layer messages, recorded for the test suite (``docs/internals``: the test-hooks seam).

With ``LEGIONELLA_VALIDATION=1`` the runtime enables ``VK_LAYER_KHRONOS_validation`` and a
``VK_EXT_debug_utils`` messenger whose error-severity messages land here. ``tests/conftest.py`` calls
:func:`clear` before each test and fails the test if :func:`errors` is not empty afterwards.
"""
import os
import threading

_lock = threading.Lock()
_errors = []


def requested():
    """True when ``LEGIONELLA_VALIDATION`` asks for the validation layer (``1``, ``true``, ``yes``)."""
    return os.environ.get("LEGIONELLA_VALIDATION", "").strip().lower() in ("1", "true", "yes", "on")


def record(message):
    """Store one error message (called from the debug messenger, possibly on a driver thread)."""
    with _lock:
        _errors.append(message)


def errors():
    """The validation errors reported since the last :func:`clear`, oldest first."""
    with _lock:
        return list(_errors)


def clear():
    """Forget the errors recorded so far."""
    with _lock:
        _errors.clear()
