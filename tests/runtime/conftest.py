"""Fixtures for the runtime tests: a private cache directory per test, devices with features turned
off, and the test kernels' imports."""
import dataclasses
import os
import sys

import pytest

import legionella as lg
import legionella.runtime as rt

sys.path.insert(0, os.path.dirname(__file__))  # spirv_kernels, the hand-assembled test kernels


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    """Each test gets an empty disk cache."""
    path = tmp_path / "cache"
    monkeypatch.setenv("LEGIONELLA_CACHE_DIR", str(path))
    return path



@pytest.fixture
def device_with_features():
    """``open(**features)``: a new device like the default one, with these optional features (names of
    ``DeviceInfo.features``) turned on or off, to run the runtime's paths for devices without them."""
    def open_device(**features):
        info = lg.device().info
        info = dataclasses.replace(info, features={**info.features, **features})
        return rt.Device(0, lg.device().physical, info).open()
    return open_device
