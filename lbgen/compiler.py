"""The pipeline, wired once: load → checks → plan → render → verify. Pure but for the spec read."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lbgen.checks import run_checks
from lbgen.diagnostics import Diagnostic, locate
from lbgen.implementations import render_boxes, rendered_boxes
from lbgen.load import Loaded, load_fabric, load_fabric_text
from lbgen.origin import safe_source, source_name
from lbgen.plan import Plan
from lbgen.plan.build import build_plan
from lbgen.render.tree import Tree, render_tree
from lbgen.verify import verify_tree


@dataclass(frozen=True)
class Compiled:
    """What one spec compiled to. `tree` is None unless there are no errors at all."""

    name: str
    diagnostics: tuple[Diagnostic, ...]
    plan: Plan | None = None
    tree: Tree | None = None
    # errors found in lbgen's own output, not in the spec
    internal: bool = False

    @property
    def ok(self) -> bool:
        return self.tree is not None


def compile_file(path: Path, name: str) -> Compiled:
    """`name` is how diagnostics call the file; generated files call it by `source_name`."""
    return _compile(name, source_name(path), load_fabric(path, name))


def compile_text(text: str, name: str) -> Compiled:
    return _compile(name, safe_source(name), load_fabric_text(text, name))


def _compile(name: str, source: str, loaded: Loaded | list[Diagnostic]) -> Compiled:
    if not isinstance(loaded, Loaded):
        return Compiled(name, tuple(loaded))
    findings = locate(run_checks(loaded.fabric), loaded.document)
    if any(d.is_error for d in findings):
        return Compiled(name, findings)
    plan = build_plan(loaded.fabric, source)
    tree = render_tree(plan, render_boxes(plan))
    broken = tuple(verify_tree(plan, tree, rendered_boxes(plan)))
    if broken:
        return Compiled(name, findings + broken, plan, internal=True)
    return Compiled(name, findings, plan, tree)
