"""The disk cache's entry format: every CompiledKernel field round-trips; nothing in an entry is executed;
a truncated, damaged, crafted or other-version entry is a miss (None), never an exception."""
import dataclasses
import hashlib
import json
import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import legionella as lg
from legionella import compiler
from legionella.compiler import compile_kernel
from legionella.compiler.artifact import CompiledKernel
from legionella.lang.types import BufferType, MatrixType, StructType, VectorType
from legionella.runtime import cache

import kernels as K

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KEY = "0" * 64

# Kernels covering what a CompiledKernel can hold: struct elements (nested, module level), a matrix and a
# 2-D buffer, vector and bool scalars, workgroup memory, and `# legionella: binding` globals of both kinds.
MODULE = """
import dataclasses
from legionella.lang import (Buffer, Uniform, barrier, f32, global_id, i32, local_id, mat4, shared, u32,
                             vec2, vec3, vec4)


@dataclasses.dataclass
class Inner:
    weight: f32
    tag: u32


@dataclasses.dataclass
class Particle:
    pos: vec3
    inner: Inner
    count: i32


@dataclasses.dataclass
class Params:
    gain: f32
    count: i32


# legionella: binding set=1 binding=0
TABLE = Buffer[f32]

# legionella: binding set=1 binding=1
PARAMS = Uniform[Params]


# legionella: kernel
def move(ps: Buffer[Particle], dt: f32, wind: vec2, flag: bool):
    i = global_id().x
    if i < len(ps):
        ps[i].pos = ps[i].pos + vec3(wind.x, wind.y, ps[i].inner.weight) * dt
        if flag:
            ps[i].count = ps[i].count + i32(ps[i].inner.tag)


# legionella: kernel
def transform(out: Buffer[vec4], ms: Buffer[mat4], grid: Buffer[f32, 2]):
    i = global_id().x
    if i < len(out):
        out[i] = ms[i] @ vec4(grid[i, 0], grid[i, 1], 0.0, 1.0)


# legionella: kernel workgroup=(64,)
def tile_sum(out: Buffer[f32], x: Buffer[f32]):
    tile = shared(f32, 64)
    lid = local_id().x
    i = global_id().x
    tile[lid] = x[i] if i < len(x) else 0.0
    barrier()
    if lid == 0:
        total = 0.0
        for k in range(64):
            total += tile[k]
        out[i // 64] = total


# legionella: kernel
def lookup(out: Buffer[f32], idx: Buffer[i32]):
    i = global_id().x
    if i < PARAMS.count and i < len(out):
        out[i] = TABLE[idx[i] % len(TABLE)] * PARAMS.gain
        TABLE[i] = 0.0
"""


@pytest.fixture(autouse=True)
def load(load_marked):
    """conftest's load_marked, for every test here: each starts from an empty binding registry."""
    return load_marked


@pytest.fixture
def mod(load):
    """MODULE imported with the hook under a new name (removed from sys.modules after the test)."""
    return load(MODULE)


def variants(kernel, target):
    """The kernel as launches compile it: default, one element per invocation, and aliased."""
    return [compile_kernel(kernel, target), compile_kernel(kernel, target, vectorize=False),
            compile_kernel(kernel, target, aliased=True)]


def all_compiled(mod):
    target = lg.device().target
    kernels = [K.inc_into, K.axpy, K.double_vec4, K.index_2d, K.mixed_scalars,
               mod.move, mod.transform, mod.tile_sum, mod.lookup]
    return [c for k in kernels for c in variants(k, target)]


def assert_same_kernel(loaded, original):
    for field in dataclasses.fields(CompiledKernel):
        a, b = getattr(loaded, field.name), getattr(original, field.name)
        assert a == b and type(a) is type(b), field.name
    for a, b in zip((*loaded.params, *loaded.globals), (*original.params, *original.globals)):
        for field in dataclasses.fields(a):
            assert getattr(a, field.name) == getattr(b, field.name), (a.name, field.name)


def _types_in(t):
    yield t
    for inner in ([t.element] if isinstance(t, BufferType) else [f for _, f in t.fields]
                  if isinstance(t, StructType) else []):
        yield from _types_in(inner)


def test_every_field_round_trips(mod):
    compiled = all_compiled(mod)
    for original in compiled:
        loaded = cache.decode_entry(KEY, cache.encode_entry(KEY, original))
        assert loaded is not None, original.name
        assert_same_kernel(loaded, original)
    # The kernels above do cover each kind of field value (else this test would prove less than it says).
    types = [t for c in compiled for item in (*c.params, *c.globals) for t in _types_in(item.type)]
    assert {type(t) for t in types} >= {BufferType, StructType, VectorType, MatrixType}
    structs = [t for t in types if isinstance(t, StructType)]
    assert {s.cls for s in structs} == {mod.Inner, mod.Particle, mod.Params}
    assert any(isinstance(t, BufferType) and t.uniform for t in types)
    assert any(t.ndim == 2 for t in types if isinstance(t, BufferType))
    assert any(c.shared_memory for c in compiled) and any(c.globals for c in compiled)
    assert {c.elements_per_invocation for c in compiled} > {1}
    assert any(not p.writes for c in compiled for p in c.params)


def test_a_struct_kernel_hits_the_disk_cache_in_a_second_process(mod, cache_dir):
    script = textwrap.dedent(f"""
        import importlib, json, sys
        import numpy as np
        import legionella as lg
        from legionella.importer import install
        sys.path.insert(0, {os.path.dirname(mod.__file__)!r})
        with install():
            mod = importlib.import_module({mod.__name__!r})
        from legionella.lang.types import struct_type
        host = np.zeros(4, struct_type(mod.Particle).dtype)
        host["inner"]["weight"], host["inner"]["tag"], host["count"] = 2.0, 3, 10
        ps = lg.array(host)
        mod.move[4](ps, 0.5, lg.vec2(1.0, 4.0), True)
        out = ps.numpy()
        print(json.dumps({{"pos": out["pos"].tolist(), "count": out["count"].tolist(), **lg.stats()}}))
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]),
           "LEGIONELLA_CACHE_DIR": str(cache_dir)}

    def run():
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])

    first, second = run(), run()
    assert (first["codegen"], first["disk_writes"]) == (1, 1)
    assert (second["codegen"], second["disk_hits"]) == (0, 1)
    assert first["pos"] == second["pos"] == [[0.5, 2.0, 1.0]] * 4 and second["count"] == [13] * 4


def test_a_struct_class_defined_in_a_function_is_launched_but_not_stored(cache_dir):
    @dataclasses.dataclass
    class Local:
        a: lg.f32
        b: lg.i32

    @lg.kernel
    def number(out: lg.Buffer[Local]):
        i = lg.global_id().x
        if i < len(out):
            out[i].b = i

    writes = lg.stats()["disk_writes"]
    out = lg.zeros(4, dtype=lg.lang.types.struct_type(Local).dtype)
    number[4](out)
    assert out.numpy()["b"].tolist() == [0, 1, 2, 3]
    assert lg.stats()["disk_writes"] == writes  # no name to find the class by in another process
    with pytest.raises(ValueError, match="define it at module level"):
        cache.encode_entry(KEY, compile_kernel(number, lg.device().target))


class _Exploit:
    """Unpickling this makes a directory: what a crafted pickle entry would do (any code could run)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.mkdir, (self.marker,)


@lg.kernel
def add_two(dst: lg.Buffer[lg.i32], src: lg.Buffer[lg.i32]):
    i = lg.global_id().x
    if i < len(dst):
        dst[i] = src[i] + 2


def test_a_crafted_pickle_entry_is_ignored_without_running(cache_dir, tmp_path):
    device = lg.device()
    key = cache.kernel_key(add_two.id, compiler.dependency_hash(add_two), device.disk_key, device.target)
    marker = tmp_path / "pwned"
    payload = pickle.dumps((key, _Exploit(marker)))
    (cache_dir / cache.KERNELS).mkdir(parents=True)
    entry = cache_dir / cache.KERNELS / f"{key}{cache.ENTRY_SUFFIX}"
    for path in (entry, entry.with_suffix(".pickle")):  # the format's name and the old one's
        path.write_bytes(payload)
    codegen = lg.stats()["codegen"]
    a, b = lg.array(np.arange(8, dtype=np.int32)), lg.zeros(8, dtype=np.int32)
    add_two[8](b, a)
    assert b.numpy().tolist() == list(range(2, 10))
    assert lg.stats()["codegen"] == codegen + 1 and not marker.exists()
    assert cache.decode_entry(key, entry.read_bytes()).name == "add_two"  # rebuilt in the safe format
    pickle.loads(payload)  # the payload is live: pickle would have run it
    assert marker.is_dir()


# ---- damaged and crafted entries -----------------------------------------------------------------

@pytest.fixture(scope="module")
def entry():
    """A valid entry (for axpy: buffers, a scalar, vectorized)."""
    return cache.encode_entry(KEY, compile_kernel(K.axpy, lg.device().target))


def craft(document, spirv, version=cache.ENTRY_VERSION, magic=cache.ENTRY_MAGIC):
    """An entry with a valid digest around any document (a dict, JSON text or bytes) and SPIR-V."""
    text = document if isinstance(document, bytes) else (
        document if isinstance(document, str) else json.dumps(document)).encode()
    body = text + spirv
    return cache.ENTRY_HEADER.pack(magic, version, hashlib.sha256(body).digest(), len(text)) + body


def parts(entry):
    """``(document, spirv)`` of a valid entry."""
    length = cache.ENTRY_HEADER.unpack_from(entry)[3]
    body = entry[cache.ENTRY_HEADER.size:]
    return json.loads(body[:length]), body[length:]


def test_crafting_a_valid_document_is_accepted(entry):
    """The control for the tests below: only their change makes an entry a miss."""
    assert cache.decode_entry(KEY, craft(*parts(entry))) == cache.decode_entry(KEY, entry) is not None


def test_every_truncation_is_a_miss(entry):
    assert all(cache.decode_entry(KEY, entry[:n]) is None for n in range(len(entry)))


def test_another_version_magic_or_key_is_a_miss(entry):
    document, spirv = parts(entry)
    assert cache.decode_entry(KEY, craft(document, spirv, version=cache.ENTRY_VERSION + 1)) is None
    assert cache.decode_entry(KEY, craft(document, spirv, version=0)) is None
    assert cache.decode_entry(KEY, craft(document, spirv, magic=b"LGKD")) is None
    assert cache.decode_entry("1" * 64, entry) is None


@settings(max_examples=200, deadline=None)
@given(position=st.integers(0, 10**6), bit=st.integers(0, 7))
def test_a_flipped_bit_is_a_miss(entry, position, bit):
    damaged = bytearray(entry)
    damaged[position % len(entry)] ^= 1 << bit
    assert cache.decode_entry(KEY, bytes(damaged)) is None


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_garbage_is_a_miss(garbage):
    assert cache.decode_entry(KEY, garbage) is None
    assert cache.decode_entry(KEY, craft(garbage, b"")) is None  # past the digest: garbage as the document


def _set(path, value):
    """A change to a document: the value at ``path`` (keys and indices) becomes ``value``."""
    def change(document):
        target = document["kernel"]
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value
    return change


def _drop(name):
    return lambda document: document["kernel"].pop(name)


# Documents that parse as JSON and carry a valid digest but describe no kernel this runtime can launch.
# axpy's parameters: y, x (buffers, bindings 0 and 1), a (f32 scalar); push constants are 44 bytes.
CRAFTED = {
    "missing field": _drop("workgroup"),
    "extra field": _set(("script",), "import os"),
    "workgroup of 2": _set(("workgroup",), [64, 1]),
    "workgroup float": _set(("workgroup",), [64.0, 1, 1]),
    "workgroup zero": _set(("workgroup",), [0, 1, 1]),
    "workgroup bool": _set(("workgroup",), [True, 1, 1]),
    "workgroup huge": _set(("workgroup",), [2**40, 1, 1]),
    "push size below the header": _set(("push_constant_size",), 8),
    "push size not a multiple of 4": _set(("push_constant_size",), 45),
    "scalar past the push constants": _set(("params", 2, "offset"), 44),
    "scalar inside the header": _set(("params", 2, "offset"), 0),
    "shape past the push constants": _set(("params", 0, "shape_offset"), 44),
    "bindings out of order": _set(("params", 0, "binding"), 1),
    "buffer as a scalar": _set(("params", 0, "kind"), "scalar"),
    "unknown kind": _set(("params", 0, "kind"), "image"),
    "unknown scalar type": _set(("params", 2, "type"), "f128"),
    "type as a list": _set(("params", 2, "type"), ["f32"]),
    "vector of 5": _set(("params", 2, "type"), {"vector": "f32", "n": 5}),
    "two type tags": _set(("params", 2, "type"), {"vector": "f32", "n": 2, "buffer": "f32"}),
    "buffer of buffers": _set(("params", 0, "type", "buffer"), {"buffer": "f32", "ndim": 1, "uniform": False}),
    "rank 4": _set(("params", 0, "type", "ndim"), 4),
    "uniform parameter": _set(("params", 0, "type", "uniform"), True),
    "struct naming a function": _set(("params", 0, "type", "buffer"), {
        "struct": "os:system", "fields": [["a", "f32"]]}),
    "struct naming another dataclass": _set(("params", 0, "type", "buffer"), {
        "struct": "legionella.compiler.artifact:CompiledKernel", "fields": [["name", "i32"]]}),
    "struct in a module not imported": _set(("params", 0, "type", "buffer"), {
        "struct": "antigravity:Thing", "fields": [["a", "f32"]]}),
    "struct path with code": _set(("params", 0, "type", "buffer"), {
        "struct": "os:system('touch x')", "fields": [["a", "f32"]]}),
    "name with a NUL": _set(("name",), "axpy\0"),
    "entry point not a name": _set(("entry_point",), "main; drop"),
    "number for a name": _set(("params", 1, "name"), 7),
    "writes as 1": _set(("params", 0, "writes"), 1),
    "negative shared memory": _set(("shared_memory",), -4),
    "no elements per invocation": _set(("elements_per_invocation",), 0),
    "global that is a scalar": _set(("globals",), [{"name": "G", "module": "m", "set": 1, "binding": 0,
                                                    "type": "f32", "shape_offset": -1, "writes": True}]),
    "global module not a name": _set(("globals",), [{"name": "G", "module": "os;x", "set": 1, "binding": 0,
                                                     "type": {"buffer": "f32", "ndim": 1, "uniform": True},
                                                     "shape_offset": -1, "writes": False}]),
    "params as a dict": _set(("params",), {"y": 1}),
}


@pytest.mark.parametrize("change", CRAFTED.values(), ids=CRAFTED.keys())
def test_a_crafted_document_is_a_miss(entry, change):
    document, spirv = parts(entry)
    change(document)
    assert cache.decode_entry(KEY, craft(document, spirv)) is None


@pytest.mark.parametrize("text", [
    '{"key": "%s", "kernel": NaN}' % KEY,
    '{"key": "%s", "kernel": {"name": 1%s}}' % (KEY, "0" * 5000),  # past int()'s digit limit
    "[" * 100000 + "]" * 100000,  # deeper than the JSON parser recurses
    '{"key": "%s", "kernel": null}' % KEY,
    "[]",
    '"\\ud800"',
    b"\xff\xfe{}",  # not UTF-8
])
def test_odd_json_is_a_miss(entry, text):
    assert cache.decode_entry(KEY, craft(text, parts(entry)[1])) is None


def test_spirv_that_is_not_spirv_is_a_miss(entry):
    document, spirv = parts(entry)
    assert cache.decode_entry(KEY, craft(document, b"\x00" * len(spirv))) is None
    assert cache.decode_entry(KEY, craft(document, spirv[:-2])) is None
    assert cache.decode_entry(KEY, craft(document, b"")) is None


json_values = st.recursive(st.none() | st.booleans() | st.integers(-2**33, 2**33) | st.floats() | st.text(max_size=8),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                       max_size=3),
                           max_leaves=8)


def _paths(value, path=()):
    yield path
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for step, inner in items:
        yield from _paths(inner, (*path, step))


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_any_value_anywhere_is_a_miss_or_a_kernel(entry, data):
    """Replace one value of the document by any JSON value: never an exception."""
    document, spirv = parts(entry)
    path = data.draw(st.sampled_from(list(_paths(document["kernel"]))[1:]))
    _set(path, data.draw(json_values))(document)
    loaded = cache.decode_entry(KEY, craft(document, spirv))
    assert loaded is None or isinstance(loaded, CompiledKernel)


def test_pipeline_cache_data_needs_the_header_size_vulkan_requires():
    """VkPipelineCacheHeaderVersionOne.headerSize must be 32: other data never reaches the driver."""
    info = lg.device().info

    def data(header_size):
        return cache.PIPELINE_HEADER.pack(header_size, 1, info.vendor_id, info.device_id,
                                          info.pipeline_cache_uuid) + b"the driver's own data"

    cache.store_pipeline_cache("this-device", data(32))
    assert cache.load_pipeline_cache("this-device", info) == data(32)
    cache.store_pipeline_cache("this-device", data(16))
    assert cache.load_pipeline_cache("this-device", info) == b""
