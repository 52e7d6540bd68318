"""Where a spec lives: the repository it belongs to, and the name generated files give it.

The name is the spec's path from its repository's root, so the same spec compiles to the same
bytes from any working directory; it is reduced to a safe alphabet because it lands in every
generated file's header, inside daemon configs."""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

# what may appear of a spec's path in a header: no spaces, quotes, comment or control characters
_UNSAFE = re.compile(r"[^A-Za-z0-9._/@+-]")
MAX_SOURCE_LENGTH = 200


def repository_root(path: Path) -> Path | None:
    """The nearest folder at or above `path` holding `.git` (a folder, or a worktree's file)."""
    resolved = path.resolve()
    for folder in (resolved, *resolved.parents):
        if (folder / ".git").exists():
            return folder
    return None


def safe_source(name: str) -> str:
    """A spec's name as generated files may carry it: safe characters only, bounded length."""
    cleaned = _UNSAFE.sub("_", name)
    if len(cleaned) > MAX_SOURCE_LENGTH:
        cleaned = "..." + cleaned[-(MAX_SOURCE_LENGTH - 3) :]
    return cleaned or "_"


def source_name(path: Path) -> str:
    """The spec's path from its repository's root, or its file name outside a repository."""
    root = repository_root(path)
    resolved = path.resolve()
    relative = resolved.relative_to(root) if root else PurePosixPath(resolved.name)
    return safe_source(relative.as_posix())


def default_output(path: Path, fabric: str) -> Path:
    """`out/<fabric>` at the spec's repository root; beside the working directory without one."""
    root = repository_root(path)
    return (root if root else Path()) / "out" / fabric


def shown(path: Path) -> str:
    """A path as people read it: relative to the working directory when below it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()
