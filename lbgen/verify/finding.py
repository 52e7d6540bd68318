"""Findings about rendered files: a bug in lbgen, never the user's fault, so always errors."""

from __future__ import annotations

from lbgen.codes import CODES, Stage, finding
from lbgen.errors import Diagnostic, Position

BUG = "this is a bug in lbgen's renderer: please report it with the spec"


def broken(code: str, where: Position, message: str) -> Diagnostic:
    assert CODES[code].stage is Stage.OUTPUT, code
    return finding(code, ("out", where.file), message, BUG, position=where)
