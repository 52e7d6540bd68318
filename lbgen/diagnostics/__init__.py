"""Diagnostics, in one place: the type (model.py), every code with its severity and meaning
(codes.py), the two ways to make one (`finding` about a spec, `broken` about lbgen's own
output), and where each is in the spec file (`locate`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Protocol

from lbgen.diagnostics.codes import CODES, Stage
from lbgen.diagnostics.model import (
    Diagnostic,
    Position,
    Related,
    Severity,
    SpecPath,
    format_path,
)

__all__ = [
    "Diagnostic",
    "Position",
    "Related",
    "Severity",
    "SpecPath",
    "broken",
    "finding",
    "format_path",
    "locate",
]

BUG = "this is a bug in lbgen's renderer: please report it with the spec"


def finding(
    code: str,
    path: SpecPath,
    message: str,
    hint: str,
    *related: SpecPath,
    severity: Severity | None = None,
    position: Position | None = None,
) -> Diagnostic:
    """A finding whose severity is its code's; codes that can be either say which. The only
    place a Diagnostic is built (a test holds every other module to it). `position`: where, for
    findings made before a spec path means anything (reading the file, parsing it)."""
    known = CODES[code].severity
    chosen = severity or known
    if chosen is None or (known is not None and severity not in (None, known)):
        raise ValueError(f"{code}: give the severity its table allows")
    return Diagnostic(
        code,
        chosen,
        path,
        message,
        hint,
        position,
        related=tuple(Related(p, None) for p in related),
    )


def broken(code: str, where: Position, message: str) -> Diagnostic:
    """A finding about a rendered file: a bug in lbgen, never the user's fault, so an error."""
    assert CODES[code].stage is Stage.OUTPUT, code
    return finding(code, ("out", where.file), message, BUG, position=where)


class Located(Protocol):
    """A spec file that knows where each spec path is (lbgen.source.Document)."""

    def position(self, path: SpecPath) -> Position | None: ...


def locate(found: Iterable[Diagnostic], document: Located) -> tuple[Diagnostic, ...]:
    """Each finding, and each spec path it relates to, at its place in `document` unless it
    has one already; sorted by place, as every report shows them."""
    located = [
        replace(
            d,
            position=d.position or document.position(d.path),
            related=tuple(
                Related(r.path, r.position or document.position(r.path)) for r in d.related
            ),
        )
        for d in found
    ]
    return tuple(sorted(located, key=Diagnostic.sort_key))
