"""Each router and reflector implementation is one description (lbgen.implementations): the
spec offers exactly the described ones, each description's parts agree with each other, and no
code outside them asks a box which implementation it runs."""

from __future__ import annotations

import ast
import typing
from pathlib import Path

import pytest

from lbgen.compiler import compile_file
from lbgen.implementations import JOINS, REFLECTORS, ROUTERS
from lbgen.spec.boxes import Reflector, Router
from lbgen.testbed.model.daemons import DAEMONS
from tests.conftest import ROOT

EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


def _offered(model: type[Router] | type[Reflector]) -> set[str]:
    return set(typing.get_args(model.model_fields["implementation"].annotation))


def _asks_the_implementation(node: ast.AST) -> bool:
    """`x.implementation == …`, `x.implementation in …`, `… == x.implementation`."""
    if not isinstance(node, ast.Compare):
        return False
    sides = [node.left, *node.comparators]
    return any(isinstance(s, ast.Attribute) and s.attr == "implementation" for s in sides)


def test_the_spec_offers_exactly_the_described_implementations() -> None:
    assert _offered(Router) == set(ROUTERS)
    assert _offered(Reflector) == set(REFLECTORS)


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.stem for e in EXAMPLES])
def test_each_box_holds_the_config_its_description_reads_back(example: Path) -> None:
    result = compile_file(example, "x.yaml")
    assert result.plan is not None
    assert result.tree is not None
    boxes = [("routers", r.name, ROUTERS[r.implementation]) for r in result.plan.routers]
    boxes += [("reflectors", r.name, REFLECTORS[r.implementation]) for r in result.plan.reflectors]
    for kind, name, implementation in boxes:
        folder = f"{kind}/{name}"
        files = {p.removeprefix(f"{folder}/") for p in result.tree if p.startswith(f"{folder}/")}
        assert implementation.config in files, (folder, implementation.name)
        assert ("sysctl.conf" in files) == implementation.sysctl, (folder, implementation.name)
        if implementation.joins is not None:
            assert implementation.joins.config in files
        if implementation.discards is not None:
            assert implementation.discards.file in files


def test_the_testbed_knows_every_daemon_a_description_names() -> None:
    for implementation in (*ROUTERS.values(), *REFLECTORS.values()):
        run = implementation.testbed
        assert set(run.daemons) <= set(DAEMONS), implementation.name
        assert bool(run.daemons) != bool(run.refused), implementation.name


def test_box_config_joins_each_config_one_way() -> None:
    joined = [i.joins for i in (*ROUTERS.values(), *REFLECTORS.values()) if i.joins]
    assert {j.config for j in joined} == set(JOINS)
    for join in joined:
        assert JOINS[join.config].join is join.join


def test_nothing_outside_the_descriptions_branches_on_an_implementations_name() -> None:
    found = []
    for path in sorted((ROOT / "lbgen").rglob("*.py")):
        if path.is_relative_to(ROOT / "lbgen" / "implementations"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found += [
            f"{path.relative_to(ROOT)}:{node.lineno}"
            for node in ast.walk(tree)
            if _asks_the_implementation(node)
        ]
    assert found == [], "ask the box's description (lbgen.implementations) instead"
