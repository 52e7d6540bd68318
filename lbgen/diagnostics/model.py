"""What every layer reports: a diagnostic with a stable code, a spec path and a source position."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

SpecPath = tuple[str | int, ...]


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True, order=True)
class Position:
    """A 1-based line and column in a source file."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class Related:
    path: SpecPath
    position: Position | None


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    severity: Severity
    path: SpecPath
    message: str
    hint: str = ""
    position: Position | None = None
    related: tuple[Related, ...] = field(default=())

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def sort_key(self) -> tuple[int, int, str, str]:
        pos = self.position
        return (pos.line if pos else 0, pos.column if pos else 0, self.code, self.message)


def format_path(path: SpecPath) -> str:
    """`("spec", "services", 1, "prefix")` → `services[1].prefix` (the `spec.` root is implied)"""
    parts = list(path[1:] if path[:1] == ("spec",) and len(path) > 1 else path)
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text or "<document>"
