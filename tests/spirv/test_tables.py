"""The generated tables are current and say what the grammar says."""
import importlib.util
import pathlib
import sys

import pytest

from legionella.spirv import GLSL, Op, enums, tables

ROOT = pathlib.Path(__file__).resolve().parents[2]
GRAMMAR_FILES = ("spirv.core.grammar.json", "extinst.glsl.std.450.grammar.json")  # what the generator reads


def test_generated_files_match_the_generator(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("gen_spirv_tables", ROOT / "tools" / "gen_spirv_tables.py")
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    grammar_dir = pathlib.Path(generator.DEFAULT_GRAMMAR_DIR)
    missing = [name for name in GRAMMAR_FILES if not (grammar_dir / name).is_file()]
    if missing:  # CI has them: its set-up installs spirv-headers
        pytest.skip(f"the Khronos grammar is not installed ({', '.join(missing)} missing from {grammar_dir}; "
                    "Debian package spirv-headers)")
    monkeypatch.setattr(generator, "PACKAGE", tmp_path)
    generator.main([sys.argv[0], str(grammar_dir)])
    for name in ("enums.py", "tables.py"):
        committed = (ROOT / "legionella" / "spirv" / name).read_text()
        assert (tmp_path / name).read_text() == committed, f"{name} is stale: run python tools/gen_spirv_tables.py"
        assert "DO NOT EDIT" in committed


def test_opcodes_and_operands():
    assert Op.IAdd == 128 and Op.ExtInst == 12 and Op.SDotKHR == Op.SDot
    load = tables.OPCODES[Op.Load]
    assert (load.has_result_type, load.has_result) == (True, True)
    assert load.operands == (("IdRef", ""), ("MemoryAccess", "?"))
    assert tables.OPCODES[Op.Store].has_result is False
    assert tables.OPCODES[Op.GroupNonUniformIAdd].version == (1, 3)
    assert tables.OPCODES[Op.SubgroupBallotKHR].extensions == ("SPV_KHR_shader_ballot",)


def test_enums_and_their_requirements():
    assert enums.StorageClass.StorageBuffer == 12 and enums.Dim._1D == 0 and enums.SelectionControl.None_ == 0
    assert isinstance(enums.MemorySemantics.AcquireRelease | enums.MemorySemantics.WorkgroupMemory, enums.MemorySemantics)
    assert tables.ENUMERANTS["Decoration"][enums.Decoration.ArrayStride].parameters == ("LiteralInteger",)
    assert tables.ENUMERANTS["ExecutionMode"][enums.ExecutionMode.LocalSize].parameters == ("LiteralInteger",) * 3
    assert "GroupNonUniform" in tables.ENUMERANTS["BuiltIn"][enums.BuiltIn.SubgroupSize].capabilities
    assert GLSL.Fma == 50 and tables.GLSL_OPERANDS[GLSL.FMax] == (("IdRef", ""), ("IdRef", ""))
