"""Tree → out/: atomic writes, an owned-file manifest, pruning of stale owned files, diffs.

Nothing outside the manifest is ever changed; a file we would overwrite that we do not own stops
the build before anything is written."""

from __future__ import annotations

import contextlib
import difflib
import enum
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from lbgen.errors import LbgenError

MANIFEST = ".lbgen-manifest"
MANIFEST_HEADER = "# files lbgen generated in this folder; it prunes those it no longer writes\n"


@dataclass(frozen=True)
class Changes:
    """What writing a tree would do to an out/ folder."""

    write: dict[str, str]
    delete: tuple[str, ...]
    diff: str
    # the folder holds no manifest yet: lbgen never built it
    never_built: bool = False

    @property
    def stale(self) -> bool:
        return bool(self.write or self.delete)


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
    changes = compare(folder, tree)
    if mode is Mode.WRITE and changes.stale:
        apply(folder, changes)
    return Synced(folder, spec, changes, mode)


def sync_file(path: Path, text: str, mode: Mode) -> bool:
    """One file outside any manifest (the schema): atomically replaced; True when it was stale."""
    stale = _read(path) != text
    if stale and mode is Mode.WRITE:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".lbgen-tmp", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        os.chmod(temp, 0o644)  # noqa: PTH101 -- mkstemp makes 0600
        Path(temp).replace(path)
    return stale


def with_manifest(tree: dict[str, str]) -> dict[str, str]:
    listing = "".join(f"{path}\n" for path in sorted(tree))
    return {**tree, MANIFEST: MANIFEST_HEADER + listing}


def owned_files(out_dir: Path) -> set[str]:
    try:
        text = (out_dir / MANIFEST).read_text(encoding="utf-8")
    except FileNotFoundError:
        return set()
    except OSError as error:
        raise LbgenError(f"{out_dir / MANIFEST}: cannot read the manifest: {error}") from error
    return {line for line in text.splitlines() if line and not line.startswith("#")}


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise LbgenError(f"{path}: cannot read: {error}") from error


def _safe(relative: str) -> str:
    pure = PurePosixPath(relative)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        raise LbgenError(f"refusing to write outside the output folder: {relative}")
    return relative


def compare(out_dir: Path, tree: dict[str, str]) -> Changes:
    """Compare the wanted tree (without manifest) with what is on disk; reads only."""
    wanted = with_manifest(tree)
    owned = owned_files(out_dir)
    never_built = not (out_dir / MANIFEST).exists()
    write: dict[str, str] = {}
    chunks: list[str] = []
    for relative, text in sorted(wanted.items()):
        current = _read(out_dir / _safe(relative))
        if current == text:
            continue
        if current is not None and relative not in owned and relative != MANIFEST:
            raise LbgenError(
                f"{out_dir / relative}: exists and was not written by lbgen (it is not in "
                f"{MANIFEST}); move it away or choose another output folder with -o"
            )
        write[relative] = text
        chunks.append(_unified(out_dir, relative, current, text))
    delete = tuple(sorted(p for p in owned - set(wanted) if (out_dir / _safe(p)).exists()))
    for relative in delete:
        chunks.append(_unified(out_dir, relative, _read(out_dir / relative), None))
    return Changes(write, delete, "".join(chunks), never_built)


def _unified(out_dir: Path, relative: str, old: str | None, new: str | None) -> str:
    name = (out_dir / relative).as_posix()
    return "".join(
        difflib.unified_diff(
            (old or "").splitlines(keepends=True),
            (new or "").splitlines(keepends=True),
            fromfile=f"a/{name}" if old is not None else "/dev/null",
            tofile=f"b/{name}" if new is not None else "/dev/null",
        )
    )


def apply(out_dir: Path, changes: Changes) -> None:
    """Write every changed file to a temporary sibling first, then rename them all into place;
    the manifest goes last, then stale owned files are pruned."""
    staged: list[tuple[Path, Path]] = []
    made: set[Path] = set()
    try:
        for relative, text in sorted(changes.write.items(), key=lambda i: i[0] == MANIFEST):
            target = out_dir / relative
            if target.parent not in made:
                target.parent.mkdir(parents=True, exist_ok=True)
                made.add(target.parent)
            fd, temp = tempfile.mkstemp(
                prefix=f".{target.name}.", suffix=".lbgen-tmp", dir=target.parent
            )
            # no fsync: out/ is regenerable and lives in git; the rename keeps each file whole
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as stream:
                stream.write(text)
            os.chmod(temp, 0o644)  # noqa: PTH101 -- mkstemp makes 0600; outputs are shared configs
            staged.append((Path(temp), target))
    except OSError as error:
        for temp_file, _ in staged:
            with contextlib.suppress(OSError):
                temp_file.unlink()
        raise LbgenError(f"cannot write into {out_dir}: {error}; nothing was changed") from error
    for temp_file, target_file in staged:
        temp_file.replace(target_file)
    for relative in changes.delete:
        (out_dir / relative).unlink(missing_ok=True)
        _remove_empty_parents(out_dir, (out_dir / relative).parent)


def _remove_empty_parents(root: Path, folder: Path) -> None:
    root = root.resolve()
    folder = folder.resolve()
    while folder != root and root in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent
