"""The house stays navigable, by path rather than by size: each unit test file is named after
the module it tests (tests/unit mirrors lbgen/), and every package of lbgen says in its
docstring what it holds. The import layers are import-linter's (pyproject.toml), run beside
this suite; where a module or a function grows long, that is a smell for review, not a count
to meet."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

UNIT = ROOT / "tests" / "unit"
LBGEN = ROOT / "lbgen"


def module_under(test: Path) -> Path:
    """tests/unit/<dirs>/test_<name>.py tests lbgen/<dirs>/<name>.py, or the package itself
    (lbgen/<dirs>/__init__.py) when <name> is its own folder's name."""
    relative = test.relative_to(UNIT)
    name = relative.stem.removeprefix("test_")
    folder = LBGEN / relative.parent
    if relative.parent.name == name:
        return folder / "__init__.py"
    return folder / f"{name}.py"


def test_each_unit_test_file_mirrors_the_module_it_tests() -> None:
    tests = sorted(UNIT.rglob("test_*.py"))
    assert tests
    strays = [
        f"{t.relative_to(ROOT)} (no {module_under(t).relative_to(ROOT)})"
        for t in tests
        if not module_under(t).exists()
    ]
    assert strays == [], "name a unit test file after the module it tests, in its folder"


def test_every_unit_test_folder_is_a_package() -> None:
    """Same-named test files in two folders (test_run.py) need their own packages to coexist."""
    missing = [
        str(folder.relative_to(ROOT))
        for folder in sorted({t.parent for t in UNIT.rglob("test_*.py")})
        if not (folder / "__init__.py").exists()
    ]
    assert missing == []


def test_every_package_says_what_it_holds() -> None:
    silent = [
        str(init.relative_to(ROOT))
        for init in sorted(LBGEN.rglob("__init__.py"))
        if not ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
    ]
    assert silent == [], "give each package a docstring: what it holds, and where to look"
