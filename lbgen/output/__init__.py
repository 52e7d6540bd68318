"""Tree → out/: the whole new folder is staged beside the old one and switched in with one
atomic rename, so a reader (git, Argo CD, the next build) only ever sees the complete old tree
or the complete new one, whatever interrupts a build (kill -9, a failing write, a full disk).

- Staging: `out/.<name>.lbgen-new/` gets every file lbgen writes (unchanged ones hard-linked
  from the old tree), every file it does not own (hard-linked: they are never touched), and the
  manifest last. renameat2(RENAME_EXCHANGE) swaps it with `out/<name>/`; the old tree, now in
  the staging path, is deleted. Where the kernel or filesystem cannot exchange, the old tree is
  renamed aside first; a build interrupted between the two renames finds the staged tree
  complete (its manifest is written last) and puts it in place.
- The next build repairs leftovers by itself before it compares anything.
- Builds into one out/ folder take turns (flock on the folder); one waits, none mixes.
- Links are never followed: a symlink inside the output folder is kept as it is if lbgen owns
  nothing below it, and stops the build if it stands where lbgen writes; diffs never read
  through one."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

from lbgen.files import replace_file
from lbgen.output.folder import MANIFEST, Changes, compare, owned_files, read_file, with_manifest
from lbgen.output.switch import put_in_place, recover, stage, turn

__all__ = [
    "MANIFEST",
    "Changes",
    "Mode",
    "Synced",
    "compare",
    "owned_files",
    "recover",
    "sync",
    "sync_file",
    "with_manifest",
]


class Mode(enum.Enum):
    WRITE = "write"
    CHECK = "check"  # write nothing; stale output is a finding
    DIFF = "diff"  # write nothing; say what a build would change


@dataclass(frozen=True)
class Synced:
    """One spec's output folder after a sync: what changed, or would."""

    folder: Path
    spec: str
    changes: Changes
    mode: Mode

    @property
    def failed(self) -> bool:
        return self.mode is Mode.CHECK and self.changes.stale


def sync(folder: Path, tree: dict[str, str], spec: str, mode: Mode) -> Synced:
    """Bring `folder` to `tree` (WRITE), or only compare (CHECK, DIFF)."""
    if mode is not Mode.WRITE:
        return Synced(folder, spec, compare(folder, tree), mode)
    with turn(folder):
        recover(folder)
        changes = compare(folder, tree)
        if changes.stale:
            put_in_place(stage(folder, changes), folder)
    return Synced(folder, spec, changes, mode)


def sync_file(path: Path, text: str, mode: Mode) -> bool:
    """One file outside any manifest (the schema): atomically replaced; True when it was stale."""
    stale = read_file(path) != text
    if stale and mode is Mode.WRITE:
        path.parent.mkdir(parents=True, exist_ok=True)
        replace_file(path, text)
    return stale
