"""Diagnostics → text for people, GitHub Actions annotations, or JSON for tools."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from lbgen.errors import Diagnostic, format_path


def _location(d: Diagnostic) -> str:
    return str(d.position) if d.position else "<unknown>"


def _sentence(d: Diagnostic) -> str:
    related = "".join(f" ({r.position})" for r in d.related if r.position)
    hint = f"; hint: {d.hint}" if d.hint else ""
    return f"{format_path(d.path)}: {d.message}{related}{hint}"


def format_text(found: Sequence[Diagnostic]) -> str:
    lines = [f"{_location(d)}: {d.severity.value}[{d.code}] {_sentence(d)}" for d in found]
    errors = sum(d.is_error for d in found)
    warnings = len(found) - errors
    if found:
        lines.append(f"{errors} error(s), {warnings} warning(s)")
    return "\n".join(lines) + ("\n" if lines else "")


def _escape(text: str, *, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def format_github(found: Sequence[Diagnostic]) -> str:
    lines = []
    for d in found:
        level = "error" if d.is_error else "warning"
        props = [f"title={_escape(d.code, prop=True)}"]
        if d.position:
            props = [
                f"file={_escape(d.position.file, prop=True)}",
                f"line={d.position.line}",
                f"col={d.position.column}",
                *props,
            ]
        lines.append(f"::{level} {','.join(props)}::{_escape(_sentence(d))}")
    return "\n".join(lines) + ("\n" if lines else "")


def format_json(found: Sequence[Diagnostic]) -> str:
    def place(position: object) -> dict[str, object]:
        if position is None:
            return {"file": None, "line": None, "column": None}
        return {"file": position.file, "line": position.line, "column": position.column}  # type: ignore[attr-defined]

    items = [
        {
            **place(d.position),
            "severity": d.severity.value,
            "code": d.code,
            "path": format_path(d.path),
            "message": d.message,
            "hint": d.hint,
            "related": [{"path": format_path(r.path), **place(r.position)} for r in d.related],
        }
        for d in found
    ]
    errors = sum(d.is_error for d in found)
    document = {"diagnostics": items, "errors": errors, "warnings": len(found) - errors}
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


FORMATS: dict[str, Callable[[Sequence[Diagnostic]], str]] = {
    "text": format_text,
    "github": format_github,
    "json": format_json,
}
