"""Reading a TCP-MD5 password from its file (a Secret's projection in an LB pod, an operator's
file on a router or reflector). Errors name the file and the rule, never the content."""

from __future__ import annotations

import re
import stat
from pathlib import Path

from lbgen.errors import LbgenError

# TCP_MD5SIG_MAXKEYLEN: the kernel refuses longer keys
MOST_BYTES = 80
# one token in every config it is written to: printable ASCII, no space, quote, backslash or
# the block, statement and comment characters of exabgp's and FRR's syntax
_ALLOWED = re.compile(r"[!-~]+")
_SYNTAX = set("{}#!;\"'\\")
RULE = (
    f"one line of 1–{MOST_BYTES} printable ASCII characters with no space, quote, "
    "backslash or any of { } # ! ;"
)


class Password(str):
    """A password read from its file: whatever refuses it names where it was going, never
    what it is (render/text.py's refusal of unsafe values too)."""

    __slots__ = ()


def read_password(path: Path, what: str) -> Password:
    """The password in `path` (one trailing newline dropped), or a clear error. A Secret's
    projected file is a link to a regular file; anything else (a FIFO would block) is refused."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            raise LbgenError(
                f"{path}: the BGP password of {what} must be in a regular file, not a "
                "folder, FIFO or device"
            )
        with path.open("rb") as file:
            raw = file.read(4 * MOST_BYTES + 2)
    except OSError as error:
        raise LbgenError(
            f"{path}: cannot read the BGP password of {what}: {error.strerror or error}"
        ) from None
    text = raw.removesuffix(b"\n").removesuffix(b"\r")
    try:
        password = text.decode("ascii")
    except UnicodeDecodeError:
        password = ""
    if (
        not 1 <= len(text) <= MOST_BYTES
        or not _ALLOWED.fullmatch(password)
        or _SYNTAX & set(password)
    ):
        raise LbgenError(f"{path}: the BGP password of {what} must be {RULE}")
    return Password(password)
