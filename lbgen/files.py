"""Replacing one file atomically: written beside it, then renamed over it, so a reader sees the
old file or the new one, never a part. For files outside a managed folder (the schema, a box's
frr.conf, the pod's exabgp.conf); out/ folders are switched whole (lbgen.output)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from lbgen.errors import LbgenError


def replace_file(path: Path, text: str, mode: int = 0o644, *, keep_owner: bool = False) -> None:
    """`path` now holds `text`, with `mode` (and, with `keep_owner`, the owner and group it
    had: a box's frr.conf belongs to FRR's group)."""
    try:
        before = path.stat() if keep_owner and path.exists() else None
        fd, staged = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as error:
        raise LbgenError(f"{path}: cannot write it ({error.strerror or error})") from None
    try:
        os.fchmod(fd, mode)
        if before is not None:
            os.fchown(fd, before.st_uid, before.st_gid)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        Path(staged).replace(path)
    except BaseException:
        Path(staged).unlink(missing_ok=True)
        raise
