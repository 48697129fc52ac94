"""A reloaded module launches its new code, also when only a helper changed (the kernel's own source, and
so its id, stays the same)."""
import importlib
import sys

import numpy as np

import legionella as lg
from legionella.importer import install

MODULE = '''
from legionella.lang import Buffer, f32, global_id


def helper(x):
    return x + {step}


# legionella: kernel
def bump(a: Buffer[f32]):
    i = global_id().x
    if i < len(a):
        a[i] = helper(a[i])
'''


def test_reload_after_a_helper_changed_launches_the_new_code(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    path = tmp_path / "reloaded_kernels.py"
    path.write_text(MODULE.format(step="1.0"))
    with install():
        module = importlib.import_module("reloaded_kernels")
        first = lg.zeros(4)
        module.bump[4](first)
        old_id = module.bump.id
        path.write_text(MODULE.format(step="100.0  # a longer line, so size and mtime both change"))
        importlib.reload(module)
    try:
        assert module.bump.id == old_id  # the kernel's own source did not change
        second = lg.zeros(4)
        module.bump[4](second)
        assert first.numpy().tolist() == [1.0] * 4
        assert second.numpy().tolist() == [100.0] * 4
    finally:
        sys.modules.pop("reloaded_kernels", None)
