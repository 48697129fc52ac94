"""Fixtures for the runtime tests: a private cache directory per test, and the test kernels' imports."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))  # spirv_kernels, the hand-assembled test kernels


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    """Each test gets an empty disk cache."""
    path = tmp_path / "cache"
    monkeypatch.setenv("LEGIONELLA_CACHE_DIR", str(path))
    return path

