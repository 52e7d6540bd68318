"""Data-driven cases: a spec beside exactly what lbgen must say about it, or exactly what it
must write. Refresh the expected files only with `pytest --update-golden`, then read the diff."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lbgen.compiler import Compiled, compile_file
from lbgen.diagnostics.codes import CODES, Stage
from lbgen.report import diagnostic_lines
from tests.conftest import CASES, ROOT

INVALID = sorted(p for p in (CASES / "invalid").iterdir() if p.is_dir())
VALID = sorted(p for p in (CASES / "valid").iterdir() if p.is_dir())


def _compile(case: Path) -> Compiled:
    return compile_file(case / "spec.yaml", "spec.yaml")


@pytest.mark.parametrize("case", INVALID, ids=[p.name for p in INVALID])
def test_invalid_spec_is_reported_exactly(case: Path, update_golden: bool) -> None:
    result = _compile(case)
    said = diagnostic_lines(result.diagnostics)
    expected = case / "diagnostics.txt"
    if update_golden:
        expected.write_text(said, encoding="utf-8")
    assert not result.ok
    assert not result.internal
    assert said == expected.read_text(encoding="utf-8")


@pytest.mark.parametrize("case", VALID, ids=[p.name for p in VALID])
def test_valid_spec_renders_its_expected_tree(case: Path, update_golden: bool) -> None:
    result = _compile(case)
    said = diagnostic_lines(result.diagnostics)
    expected_dir = case / "expected"
    warnings = case / "diagnostics.txt"
    if update_golden:
        for old in expected_dir.rglob("*"):
            if old.is_file():
                old.unlink()
        for relative, text in (result.tree or {}).items():
            (expected_dir / relative).parent.mkdir(parents=True, exist_ok=True)
            (expected_dir / relative).write_text(text, encoding="utf-8")
        if said:
            warnings.write_text(said, encoding="utf-8")
        else:
            warnings.unlink(missing_ok=True)
    assert result.ok, said
    assert said == (warnings.read_text(encoding="utf-8") if warnings.exists() else "")
    on_disk = {
        p.relative_to(expected_dir).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(expected_dir.rglob("*"))
        if p.is_file()
    }
    assert result.tree == on_disk


def test_there_are_enough_invalid_cases_to_cover_the_checks() -> None:
    assert len(INVALID) >= 25


def test_every_code_the_spec_side_can_emit_has_a_case() -> None:
    """Each diagnostic code of the spec side (lbgen.diagnostics.codes) appears in some case."""
    spec_side = {c.code for c in CODES.values() if c.stage is Stage.SPEC}
    said = "".join(p.read_text() for p in CASES.glob("*/*/diagnostics.txt"))
    covered = set(re.findall(r"\[(LB\d{3})\]", said))
    # LB000 (an unreadable file) is shown by tests/unit/test_source.py, not by a spec
    assert spec_side - covered - {"LB000"} == set()


def test_every_code_in_the_sources_is_in_the_table() -> None:
    lbgen = ROOT / "lbgen"
    used = {
        code
        for src in lbgen.rglob("*.py")
        if src.name != "codes.py"
        for code in re.findall(r'"(LB\d{3})"', src.read_text())
    }
    assert used <= set(CODES)


def test_every_diagnostic_is_built_through_the_registry() -> None:
    """Only lbgen.diagnostics.finding builds a Diagnostic, so each takes its severity from the
    table."""
    home = ROOT / "lbgen" / "diagnostics"
    builders = {
        str(src.relative_to(ROOT))
        for src in (ROOT / "lbgen").rglob("*.py")
        if not src.is_relative_to(home) and "Diagnostic(" in src.read_text()
    }
    assert builders == set()
