"""Constructors for the findings checks yield (positions are filled in later, from the source)."""

from __future__ import annotations

from lbgen.errors import Diagnostic, Path, Related, Severity


def error(code: str, path: Path, message: str, hint: str, *related: Path) -> Diagnostic:
    return Diagnostic(
        code, Severity.ERROR, path, message, hint, related=tuple(Related(p, None) for p in related)
    )


def warning(code: str, path: Path, message: str, hint: str, *related: Path) -> Diagnostic:
    return Diagnostic(
        code,
        Severity.WARNING,
        path,
        message,
        hint,
        related=tuple(Related(p, None) for p in related),
    )
