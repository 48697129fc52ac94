"""Kernel caches: once per (kernel, device) in process; on disk across processes; corrupt, foreign and
unwritable caches; `legionella cache info|clear`."""
import json
import os
import subprocess
import sys

import numpy as np

import legionella as lg
import legionella.runtime as rt
import kernels as K
from legionella.runtime import cache

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

LAUNCH_ONCE = '''
import json
import numpy as np
import legionella as lg
from kernels import inc_into as k
a = lg.array(np.arange(100, dtype=np.int32))
b = lg.zeros(100, dtype=np.int32)
k[100](b, a)
assert (b.numpy() == np.arange(100) + 1).all()
print(json.dumps(lg.stats()))
'''


LAUNCH_ALIASED = '''
import json
import numpy as np
import legionella as lg
from kernels import inc_into as k
a = lg.array(np.arange(100, dtype=np.int32))
k[100](a, a)  # one array for both parameters, written: the aliased variant
assert (a.numpy() == np.arange(100) + 1).all()
print(json.dumps(lg.stats()))
'''


def launch_in_new_process(cache_dir, script=LAUNCH_ONCE):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([ROOT, os.path.dirname(__file__), os.environ.get("PYTHONPATH", "")]),
           "LEGIONELLA_CACHE_DIR": str(cache_dir)}
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])


def kernel_files(cache_dir):
    return sorted((cache_dir / cache.KERNELS).glob(f"*{cache.ENTRY_SUFFIX}"))


@lg.kernel(workgroup=(64,))
def add_one(dst: lg.Buffer[lg.i32], src: lg.Buffer[lg.i32]):
    i = lg.global_id().x
    if i < len(dst):
        dst[i] = src[i] + 1


def test_a_kernel_is_compiled_once_per_device():
    codegen, pipelines = lg.stats()["codegen"], lg.stats()["pipelines"]
    a, b = lg.zeros(8, dtype=np.int32), lg.zeros(8, dtype=np.int32)
    add_one[8](b, a)
    add_one[8](a, b)
    assert lg.stats()["codegen"] == codegen + 1 and lg.stats()["pipelines"] == pipelines + 1
    assert a.numpy().tolist() == [2] * 8


def test_a_second_process_finds_its_kernels_in_the_disk_cache(cache_dir):
    first = launch_in_new_process(cache_dir)
    assert (first["codegen"], first["disk_hits"], first["disk_writes"]) == (1, 0, 1)
    assert len(kernel_files(cache_dir)) == 1
    assert list((cache_dir / cache.PIPELINES).glob("*.bin"))  # the driver's pipeline cache is saved too
    second = launch_in_new_process(cache_dir)
    assert (second["codegen"], second["disk_hits"]) == (0, 1)


def test_kernel_variants_are_found_in_the_disk_cache_too(cache_dir):
    first = launch_in_new_process(cache_dir, LAUNCH_ALIASED)
    assert (first["codegen"], first["disk_writes"]) == (2, 2)  # the kernel, then its aliased variant
    second = launch_in_new_process(cache_dir, LAUNCH_ALIASED)
    assert (second["codegen"], second["disk_hits"]) == (0, 2)


def test_a_corrupt_entry_is_ignored_and_rebuilt(cache_dir):
    launch_in_new_process(cache_dir)
    entry, = kernel_files(cache_dir)
    entry.write_bytes(b"LGKC not an entry at all")
    run = launch_in_new_process(cache_dir)
    assert (run["codegen"], run["disk_hits"], run["disk_writes"]) == (1, 0, 1)
    assert cache.decode_entry(entry.stem, entry.read_bytes()).name == "inc_into"  # rewritten whole


def test_a_foreign_entry_is_ignored(cache_dir):
    launch_in_new_process(cache_dir)
    entry, = kernel_files(cache_dir)
    compiled = cache.decode_entry(entry.stem, entry.read_bytes())
    entry.write_bytes(cache.encode_entry("some other key", compiled))  # e.g. copied from another machine
    run = launch_in_new_process(cache_dir)
    assert (run["codegen"], run["disk_hits"]) == (1, 0)


def test_an_unwritable_cache_directory_means_no_disk_cache(tmp_path, monkeypatch):
    blocker = tmp_path / "a file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("LEGIONELLA_CACHE_DIR", str(blocker / "cache"))
    writes = lg.stats()["disk_writes"]
    k = K.iota
    out = lg.zeros(10, dtype=np.int32)
    k[10](out)
    assert out.numpy().tolist() == list(range(10))
    assert lg.stats()["disk_writes"] == writes
    assert "compiled kernels: 0" in rt.cache_command("info")


def test_cache_info_and_clear(cache_dir):
    launch_in_new_process(cache_dir)
    info = rt.cache_command("info")
    assert f"cache directory: {cache_dir}" in info and "compiled kernels: 1" in info
    assert "pipeline caches: 1" in info
    assert rt.cache_command("clear") == f"removed 2 entries from {cache_dir}"
    assert "compiled kernels: 0" in rt.cache_command("info")


def test_cache_command_line(cache_dir):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]),
           "LEGIONELLA_CACHE_DIR": str(cache_dir)}
    run = subprocess.run([sys.executable, "-m", "legionella", "cache", "info"], capture_output=True, text=True,
                         env=env, timeout=60)
    assert run.returncode == 0 and f"cache directory: {cache_dir}" in run.stdout


def test_saved_pipeline_cache_data_is_checked_before_the_driver_sees_it(cache_dir):
    launch_in_new_process(cache_dir)
    device = lg.device()
    entry, = (cache_dir / cache.PIPELINES).glob("*.bin")
    data = cache.load_pipeline_cache(device.disk_key, device.info)
    assert data[16:32] == device.info.pipeline_cache_uuid  # this device's own data is used
    damaged = bytearray(entry.read_bytes())
    damaged[-1] ^= 0xFF
    entry.write_bytes(bytes(damaged))
    assert cache.load_pipeline_cache(device.disk_key, device.info) == b""
    launch_in_new_process(cache_dir)  # and a process meeting the damaged file still works


def test_switched_off_passes_make_another_disk_key(monkeypatch):
    target = lg.device().target
    key = cache.kernel_key("m:k#0", "deps", "device", target)
    monkeypatch.setenv("LEGIONELLA_PASSES", "-cse")
    assert cache.kernel_key("m:k#0", "deps", "device", target) != key
    monkeypatch.setenv("LEGIONELLA_PASSES", "")
    assert cache.kernel_key("m:k#0", "deps", "device", target) == key


def test_an_entry_that_is_not_a_regular_file_is_a_miss_without_reading_it(cache_dir):
    launch_in_new_process(cache_dir)
    entry, = kernel_files(cache_dir)
    entry.unlink()
    entry.symlink_to("/dev/zero")  # reading it whole would never end
    run = launch_in_new_process(cache_dir)
    assert (run["codegen"], run["disk_hits"]) == (1, 0)
    entry.unlink()
    os.mkfifo(entry)  # opening it for reading would block
    run = launch_in_new_process(cache_dir)
    assert (run["codegen"], run["disk_hits"]) == (1, 0)
