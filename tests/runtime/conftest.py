"""Fixtures for the runtime tests: a private cache directory per test, devices with features turned
off, marked modules imported with the hook, and the test kernels' imports."""
import dataclasses
import importlib
import itertools
import os
import sys
import textwrap

import pytest

import legionella as lg
import legionella.runtime as rt
from legionella.importer import install
from legionella.lang import binding

sys.path.insert(0, os.path.dirname(__file__))  # spirv_kernels, the hand-assembled test kernels


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    """Each test gets an empty disk cache."""
    path = tmp_path / "cache"
    monkeypatch.setenv("LEGIONELLA_CACHE_DIR", str(path))
    return path



_marked_modules = itertools.count()


@pytest.fixture
def load_marked(tmp_path, monkeypatch):
    """``load_marked(source)``: write a marked module under ``tmp_path`` and import it with the hook, under a
    new name each time (dropped from sys.modules after the test). ``# legionella: binding`` declarations
    start from an empty registry, so modules of different tests never clash."""
    monkeypatch.setattr(binding, "_declarations", {})
    monkeypatch.syspath_prepend(str(tmp_path))

    def load(source):
        name = f"marked_mod_{next(_marked_modules)}"
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
        monkeypatch.delitem(sys.modules, name, raising=False)  # so that it is removed after the test
        with install():
            return importlib.import_module(name)
    return load


@pytest.fixture
def device_with_features():
    """``open(**features)``: a new device like the default one, with these optional features (names of
    ``DeviceInfo.features``) turned on or off, to run the runtime's paths for devices without them."""
    def open_device(**features):
        info = lg.device().info
        info = dataclasses.replace(info, features={**info.features, **features})
        return rt.Device(0, lg.device().physical, info).open()
    return open_device
