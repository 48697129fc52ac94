"""BindingDecl: one declaration per (set, binding), bind/bound on the host side."""
import numpy as np
import pytest

from legionella.errors import LegionellaError, MarkerError
from legionella.lang import Buffer, Uniform, f32, vec4
from legionella.lang import binding


@pytest.fixture(autouse=True)
def isolated_registry(monkeypatch):
    monkeypatch.setattr(binding, "_declarations", {})


def declare(buffer_type=Buffer[f32], name="X", module="m", descriptor_set=0, number=0, lineno=3):
    return binding.BindingDecl(buffer_type, name=name, module=module, descriptor_set=descriptor_set,
                               binding=number, filename=f"/src/{module}.py", lineno=lineno)


def test_fields_and_lookup():
    decl = declare(Uniform[vec4], descriptor_set=1, number=2)
    assert (decl.name, decl.module, decl.set, decl.binding, decl.type, decl.where) == (
        "X", "m", 1, 2, Uniform[vec4], "/src/m.py:3")
    assert binding.declaration(1, 2) is decl and binding.declarations() == [decl]


def test_bind_then_bound():
    decl = declare()
    with pytest.raises(LegionellaError, match=r"no array is bound to m\.X .*call m\.X\.bind\(array\)"):
        decl.bound
    array = np.zeros(8, np.float32)
    decl.bind(array)
    assert decl.bound is array


def test_bind_checks_the_dtype():
    with pytest.raises(TypeError, match=r"m\.X is declared as Buffer\[f32\] .* dtype int32"):
        declare().bind(np.zeros(8, np.int32))
    declare(Buffer[vec4], name="V", number=1).bind(np.zeros((8, 4), np.float32))  # (..., 4) float32 is a vec4 array


def test_second_declaration_names_both_places():
    declare(name="A", module="first", lineno=4)
    with pytest.raises(MarkerError) as info:
        declare(name="B", module="second", lineno=9)
    assert (info.value.filename, info.value.lineno) == ("/src/second.py", 9)
    assert "first.A at /src/first.py:4 and second.B here" in str(info.value)


def test_redeclaring_the_same_name_replaces_it_even_renumbered():
    declare(number=0)
    moved = declare(number=5)  # a reload that gave X other numbers
    assert binding.declarations() == [moved]
    declare(name="Y", number=0)  # the old numbers are free again


def test_declaration_must_be_a_lang_buffer_type():
    with pytest.raises(MarkerError, match=r"/src/m.py:3: .*X = <class 'int'>, which is not a Buffer"):
        declare(int)
