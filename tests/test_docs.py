"""The README and docs/: the tables generated from the code are fresh, every link resolves, and
the README stays a page a newcomer reads in one go."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lbgen.diagnostics.codes import markdown_table
from lbgen.schema import REFERENCE_PATH, render_reference
from tests.conftest import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
README_LINES = 200


def test_the_table_of_codes_is_the_registry(update_golden: bool) -> None:
    path = ROOT / "docs/codes.md"
    page = path.read_text(encoding="utf-8")
    if update_golden:
        start = page.index("| code | severity | finding |")
        end = page.index("\n\n", start) + 1
        page = page[:start] + markdown_table() + page[end:]
        path.write_text(page, encoding="utf-8")
    assert markdown_table() in page, "run pytest --update-golden to refresh docs/codes.md"


def test_the_spec_reference_is_the_schema(update_golden: bool) -> None:
    path = ROOT / REFERENCE_PATH
    if update_golden:
        path.write_text(render_reference(), encoding="utf-8")
    assert path.read_text(encoding="utf-8") == render_reference(), (
        "run pytest tests/test_docs.py --update-golden to refresh docs/spec-reference.md"
    )


def _anchors(page: Path) -> set[str]:
    """GitHub's anchors for a page's headings."""
    found = set()
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            text = line.lstrip("#").strip().lower()
            found.add(re.sub(r"[^\w\- ]", "", text).replace(" ", "-"))
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_resolves(page: Path) -> None:
    broken = []
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        if re.match(r"^[a-z]+://|^mailto:", target):
            continue  # the web: not this test's to reach
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        missing = not linked.exists()
        if missing or (anchor and linked.suffix == ".md" and anchor not in _anchors(linked)):
            broken.append(target)
    assert broken == []


def test_the_readme_is_one_short_page() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_LINES
