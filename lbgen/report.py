"""Diagnostics and output folders' state → text for people, GitHub Actions annotations, or one
JSON document for tools. Each format returns what goes to stdout and what goes to stderr."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from lbgen.diagnostics import Diagnostic, format_path
from lbgen.origin import shown
from lbgen.output import Mode, Synced

# GitHub shows at most 10 annotations of a kind per step: more files are summed up in one
MAX_FILE_ANNOTATIONS = 10


@dataclass(frozen=True)
class Said:
    stdout: str = ""
    stderr: str = ""


def _status(synced: Synced) -> str:
    folder, changes = shown(synced.folder), synced.changes
    if synced.mode is Mode.WRITE:
        if not changes.stale:
            return f"{folder}: up to date"
        return f"{folder}: {len(changes.write)} written, {len(changes.delete)} removed"
    if not changes.stale:
        return f"{folder}: up to date"
    if changes.never_built:
        return f"{folder}: never built; run `lbgen build {synced.spec}` and commit {folder}"
    verb = "stale" if synced.mode is Mode.CHECK else "would change"
    return (
        f"{folder}: {verb}: {len(changes.write)} to write, {len(changes.delete)} to remove; "
        f"run `lbgen build {synced.spec}` and commit the result"
    )


def _diff(synced: Synced) -> str:
    # a folder never built is one line, not a diff of every file
    never = synced.changes.never_built and synced.mode is Mode.CHECK
    return "" if synced.mode is Mode.WRITE or never else synced.changes.diff


def _statuses(outputs: Sequence[Synced]) -> str:
    return "".join(f"{_status(s)}\n" for s in outputs)


def _location(d: Diagnostic) -> str:
    return str(d.position) if d.position else "<unknown>"


def _sentence(d: Diagnostic) -> str:
    related = "".join(f" ({r.position})" for r in d.related if r.position)
    hint = f"; hint: {d.hint}" if d.hint else ""
    return f"{format_path(d.path)}: {d.message}{related}{hint}"


def diagnostic_lines(found: Sequence[Diagnostic]) -> str:
    lines = [f"{_location(d)}: {d.severity.value}[{d.code}] {_sentence(d)}" for d in found]
    errors = sum(d.is_error for d in found)
    warnings = len(found) - errors
    if found:
        lines.append(f"{errors} error(s), {warnings} warning(s)")
    return "\n".join(lines) + ("\n" if lines else "")


def _escape(text: str, *, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def format_text(found: Sequence[Diagnostic], outputs: Sequence[Synced] = ()) -> Said:
    diffs = "".join(_diff(s) for s in outputs)
    return Said(diagnostic_lines(found) + diffs, _statuses(outputs))


def format_github(found: Sequence[Diagnostic], outputs: Sequence[Synced] = ()) -> Said:
    lines = _annotations(found)
    for synced in (s for s in outputs if s.failed):
        files = sorted([*synced.changes.write, *synced.changes.delete])
        message = _escape(_status(synced))
        if synced.changes.never_built or len(files) > MAX_FILE_ANNOTATIONS:
            lines.append(f"::error file={_escape(synced.spec, prop=True)},title=stale::{message}")
            continue
        for relative in files:
            name = _escape((Path(shown(synced.folder)) / relative).as_posix(), prop=True)
            lines.append(f"::error file={name},title=stale::{message}")
    diffs = "".join(_diff(s) for s in outputs)
    return Said("".join(f"{line}\n" for line in lines) + diffs, _statuses(outputs))


def _annotations(found: Sequence[Diagnostic]) -> list[str]:
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
    return lines


def _output_json(synced: Synced) -> dict[str, object]:
    return {
        "folder": shown(synced.folder),
        "spec": synced.spec,
        "mode": synced.mode.value,
        "stale": synced.changes.stale,
        "neverBuilt": synced.changes.never_built,
        "write": sorted(synced.changes.write),
        "remove": list(synced.changes.delete),
        "diff": _diff(synced),
        "message": _status(synced),
    }


def format_json(found: Sequence[Diagnostic], outputs: Sequence[Synced] = ()) -> Said:
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
    document = {
        "diagnostics": items,
        "errors": errors,
        "warnings": len(found) - errors,
        "outputs": [_output_json(s) for s in outputs],
    }
    return Said(json.dumps(document, indent=2, sort_keys=True) + "\n")


FORMATS: dict[str, Callable[[Sequence[Diagnostic], Sequence[Synced]], Said]] = {
    "text": format_text,
    "github": format_github,
    "json": format_json,
}
