"""The house stays navigable: no module of lbgen over 350 lines, no function over 80 (the command
line's parser table excepted). A failure lists every offender."""

from __future__ import annotations

import ast

from tests.conftest import ROOT

MODULE_LINES = 350
FUNCTION_LINES = 80
EXCEPTED = {("lbgen/cli/parser.py", "build_parser")}  # one table of every command's flags


def _modules() -> list[tuple[str, str]]:
    return [
        (str(path.relative_to(ROOT)), path.read_text(encoding="utf-8"))
        for path in sorted((ROOT / "lbgen").rglob("*.py"))
    ]


def test_no_module_is_over_the_limit() -> None:
    over = [
        f"{name}: {len(text.splitlines())} lines"
        for name, text in _modules()
        if len(text.splitlines()) > MODULE_LINES
    ]
    assert over == [], f"split these by what they hold (at most {MODULE_LINES} lines)"


def test_no_function_is_over_the_limit() -> None:
    over = []
    for name, text in _modules():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno:
                length = node.end_lineno - node.lineno + 1
                if length > FUNCTION_LINES and (name, node.name) not in EXCEPTED:
                    over.append(f"{name}:{node.lineno} {node.name}: {length} lines")
    assert over == [], f"split these (at most {FUNCTION_LINES} lines a function)"
