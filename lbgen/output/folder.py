"""An output folder as it is, read without following links, against the tree lbgen wants."""

from __future__ import annotations

import difflib
import errno
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from lbgen.errors import LbgenError

MANIFEST = ".lbgen-manifest"
MANIFEST_HEADER = "# files lbgen generated in this folder; it prunes those it no longer writes\n"
# what earlier lbgen versions left behind when interrupted: never carried over
STALE_TEMP_SUFFIX = ".lbgen-tmp"


@dataclass(frozen=True)
class Changes:
    """What writing a tree would do to an out/ folder."""

    write: dict[str, str]
    delete: tuple[str, ...]
    diff: str
    # the folder holds no manifest yet: lbgen never built it
    never_built: bool = False
    # the whole wanted tree, manifest included
    wanted: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def stale(self) -> bool:
        return bool(self.write or self.delete)


def with_manifest(tree: dict[str, str]) -> dict[str, str]:
    listing = "".join(f"{path}\n" for path in sorted(tree))
    return {**tree, MANIFEST: MANIFEST_HEADER + listing}


@dataclass(frozen=True)
class Present:
    """What the output folder holds, read without following links (paths relative to it)."""

    files: frozenset[str]
    links: frozenset[str]
    folders: frozenset[str]


def scan(out_dir: Path) -> Present:
    if out_dir.is_symlink():
        raise LbgenError(
            f"{out_dir}: the output folder is a symbolic link; lbgen writes only into a real "
            "folder (point -o at the link's target instead)"
        )
    if not out_dir.exists():
        return Present(frozenset(), frozenset(), frozenset())
    if not out_dir.is_dir():
        raise LbgenError(f"{out_dir}: exists and is not a folder")
    if (out_dir / ".git").exists():
        raise LbgenError(f"{out_dir}: holds .git; the output folder must be lbgen's own")
    files: set[str] = set()
    links: set[str] = set()
    folders: set[str] = set()
    pending = [(out_dir, "")]
    while pending:
        folder, base = pending.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                relative = f"{base}{entry.name}"
                if entry.is_symlink():
                    links.add(relative)
                elif entry.is_dir(follow_symlinks=False):
                    folders.add(relative)
                    pending.append((Path(entry.path), f"{relative}/"))
                elif entry.is_file(follow_symlinks=False):
                    files.add(relative)
    return Present(frozenset(files), frozenset(links), frozenset(folders))


def read_file(path: Path) -> str | None:
    """A regular file's text, never through a symbolic link."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise LbgenError(
                f"{path}: is a symbolic link; lbgen never reads through one"
            ) from error
        raise LbgenError(f"{path}: cannot read: {error.strerror}") from error
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise LbgenError(f"{path}: is not a regular file")
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        data = b"".join(chunks)
    finally:
        os.close(fd)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise LbgenError(f"{path}: cannot read: {error}") from error


def owned_files(out_dir: Path) -> set[str]:
    text = read_file(out_dir / MANIFEST)
    if text is None:
        return set()
    return {line for line in text.splitlines() if line and not line.startswith("#")}


def _safe(relative: str) -> str:
    pure = PurePosixPath(relative)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        raise LbgenError(f"refusing to write outside the output folder: {relative}")
    return relative


def parents(relative: str) -> list[str]:
    parts = PurePosixPath(relative).parts
    return [PurePosixPath(*parts[:n]).as_posix() for n in range(1, len(parts))]


def compare(out_dir: Path, tree: dict[str, str]) -> Changes:
    """Compare the wanted tree (without manifest) with what is on disk; reads only."""
    wanted = with_manifest(tree)
    present = scan(out_dir)
    owned = owned_files(out_dir)
    write: dict[str, str] = {}
    chunks: list[str] = []
    for relative, text in sorted(wanted.items()):
        _safe(relative)
        for parent in parents(relative):
            if parent in present.links:
                raise LbgenError(
                    f"{out_dir / parent}: is a symbolic link where lbgen writes; lbgen never "
                    "follows links out of its output folder: remove it"
                )
            if parent in present.files and parent not in owned:
                raise LbgenError(
                    f"{out_dir / parent}: exists and was not written by lbgen (it is not in "
                    f"{MANIFEST}), and a folder of lbgen's must go there"
                )
        if relative in present.links or relative in present.folders:
            raise LbgenError(
                f"{out_dir / relative}: is a link or folder where lbgen writes a file: remove it"
            )
        current = read_file(out_dir / relative) if relative in present.files else None
        if current == text:
            continue
        if current is not None and relative not in owned and relative != MANIFEST:
            raise LbgenError(
                f"{out_dir / relative}: exists and was not written by lbgen (it is not in "
                f"{MANIFEST}); move it away or choose another output folder with -o"
            )
        write[relative] = text
        chunks.append(_unified(out_dir, relative, current, text))
    delete = tuple(sorted(p for p in owned - set(wanted) if p in present.files))
    for relative in delete:
        chunks.append(_unified(out_dir, relative, read_file(out_dir / relative), None))
    never_built = MANIFEST not in present.files
    return Changes(write, delete, "".join(chunks), never_built, wanted)


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
