"""The pyc cache on its own: paths, the header checks, reading files, and writes that never fail an import."""
import importlib.util
import os
import sys

import pytest

from legionella.importer import cache

CODE = compile("x = 1\n", "m.py", "exec")
SOURCE_HASH = importlib.util.source_hash(b"x = 1\n")


@pytest.mark.parametrize("path", ["/a/b/mod.py", "rel/pkg/__init__.py", "/a/dotted.name.py"])
def test_fast_path_agrees_with_cache_from_source(path, monkeypatch):
    fast = cache.cache_path(path)
    standard = importlib.util.cache_from_source(path)
    assert fast == standard.replace(sys.implementation.cache_tag, cache.TAG)
    monkeypatch.setattr(sys, "pycache_prefix", "/prefix")
    assert cache.cache_path(path) == importlib.util.cache_from_source(path).replace(
        sys.implementation.cache_tag, cache.TAG)
    assert cache.cache_path(path).startswith("/prefix/")


def test_write_then_read(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    pyc = str(tmp_path / "__pycache__" / f"m.{cache.TAG}.pyc")
    assert cache.write(pyc, CODE, SOURCE_HASH)
    assert cache.read(pyc, SOURCE_HASH) == CODE
    assert os.listdir(tmp_path / "__pycache__") == [f"m.{cache.TAG}.pyc"]  # no temporary file left


@pytest.mark.parametrize("damage", ["truncated", "wrong hash", "timestamp flags", "foreign magic", "not code"])
def test_damaged_or_stale_pyc_is_a_miss(tmp_path, monkeypatch, damage):
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    pyc = str(tmp_path / "m.pyc")
    cache.write(pyc, CODE, SOURCE_HASH)
    data = bytearray(open(pyc, "rb").read())
    if damage == "truncated":
        data = data[:len(data) - 5]
    elif damage == "wrong hash":
        data[8] ^= 0xFF
    elif damage == "timestamp flags":
        data[4:8] = (0).to_bytes(4, "little")
    elif damage == "foreign magic":
        data[0] ^= 0xFF
    else:
        import marshal
        data = data[:16] + marshal.dumps((1, 2))
    open(pyc, "wb").write(data)
    assert cache.read(pyc, SOURCE_HASH) is None


def test_unwritable_cache_location_is_not_an_error(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    (tmp_path / "__pycache__").write_text("a file where the directory should be")
    assert cache.write(str(tmp_path / "__pycache__" / "m.pyc"), CODE, SOURCE_HASH) is False
    assert sorted(os.listdir(tmp_path)) == ["__pycache__"]


def test_dont_write_bytecode_is_honoured(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    assert cache.write(str(tmp_path / "m.pyc"), CODE, SOURCE_HASH) is False
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("data", [b"", b"x = 1\r\n# legionella: kernel\r\n", bytes(range(256)) * 300])
def test_read_file_reads_every_byte_as_stored(tmp_path, data):
    path = tmp_path / "m.py"
    path.write_bytes(data)
    assert cache.read_file(str(path)) == data


def test_read_file_reads_on_after_a_short_read(tmp_path, monkeypatch):
    data = bytes(range(256)) * 40
    path = tmp_path / "m.py"
    path.write_bytes(data)
    real_read = os.read
    calls = []

    def short_read(fd, size):  # what a read interrupted by a signal returns: fewer bytes than asked for
        calls.append(size)
        return real_read(fd, min(size, 1000))

    monkeypatch.setattr(os, "read", short_read)
    assert cache.read_file(str(path)) == data
    assert len(calls) == 11


def test_read_file_of_a_missing_file_raises(tmp_path):
    with pytest.raises(FileNotFoundError):
        cache.read_file(str(tmp_path / "missing.py"))
