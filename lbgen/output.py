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

import contextlib
import ctypes
import difflib
import enum
import errno
import fcntl
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from lbgen.errors import LbgenError

MANIFEST = ".lbgen-manifest"
MANIFEST_HEADER = "# files lbgen generated in this folder; it prunes those it no longer writes\n"
# what earlier lbgen versions left behind when interrupted: never carried over
STALE_TEMP_SUFFIX = ".lbgen-tmp"
LOCK_WAIT_SECONDS = 120.0
RENAME_EXCHANGE = 2  # linux/fs.h


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
    with _turn(folder):
        recover(folder)
        changes = compare(folder, tree)
        if changes.stale:
            _switch(_stage(folder, changes), folder)
    return Synced(folder, spec, changes, mode)


def apply(out_dir: Path, changes: Changes) -> None:
    """Write what `compare` found (the folder is compared again, under the lock)."""
    tree = {k: v for k, v in changes.wanted.items() if k != MANIFEST}
    sync(out_dir, tree, "", Mode.WRITE)


def sync_file(path: Path, text: str, mode: Mode) -> bool:
    """One file outside any manifest (the schema): atomically replaced; True when it was stale."""
    stale = _read_file(path) != text
    if stale and mode is Mode.WRITE:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        os.chmod(temp, 0o644)  # noqa: PTH101 -- mkstemp makes 0600
        Path(temp).replace(path)
    return stale


def with_manifest(tree: dict[str, str]) -> dict[str, str]:
    listing = "".join(f"{path}\n" for path in sorted(tree))
    return {**tree, MANIFEST: MANIFEST_HEADER + listing}


# ---- reading the folder as it is, never through a link


@dataclass(frozen=True)
class Present:
    """What the output folder holds, read without following links (paths relative to it)."""

    files: frozenset[str]
    links: frozenset[str]
    folders: frozenset[str]


def _scan(out_dir: Path) -> Present:
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


def _read_file(path: Path) -> str | None:
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
    text = _read_file(out_dir / MANIFEST)
    if text is None:
        return set()
    return {line for line in text.splitlines() if line and not line.startswith("#")}


def _safe(relative: str) -> str:
    pure = PurePosixPath(relative)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        raise LbgenError(f"refusing to write outside the output folder: {relative}")
    return relative


def _parents(relative: str) -> list[str]:
    parts = PurePosixPath(relative).parts
    return [PurePosixPath(*parts[:n]).as_posix() for n in range(1, len(parts))]


def compare(out_dir: Path, tree: dict[str, str]) -> Changes:
    """Compare the wanted tree (without manifest) with what is on disk; reads only."""
    wanted = with_manifest(tree)
    present = _scan(out_dir)
    owned = owned_files(out_dir)
    write: dict[str, str] = {}
    chunks: list[str] = []
    for relative, text in sorted(wanted.items()):
        _safe(relative)
        for parent in _parents(relative):
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
        current = _read_file(out_dir / relative) if relative in present.files else None
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
        chunks.append(_unified(out_dir, relative, _read_file(out_dir / relative), None))
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


# ---- writing: stage, switch, repair


def _beside(out_dir: Path, what: str) -> Path:
    return out_dir.parent / f".{out_dir.name}.lbgen-{what}"


@contextlib.contextmanager
def _turn(out_dir: Path) -> Iterator[None]:
    """One build at a time per out/ folder: an flock on the folder that holds the output."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(out_dir.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise LbgenError(
                        f"{out_dir.parent}: another lbgen build has been writing here for "
                        f"{LOCK_WAIT_SECONDS:.0f} s; nothing was changed"
                    ) from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)


def recover(out_dir: Path) -> None:
    """Finish or undo what an interrupted build left beside the output folder."""
    staged, old = _beside(out_dir, "new"), _beside(out_dir, "old")
    if staged.is_dir() and not out_dir.exists() and (staged / MANIFEST).is_file():
        # interrupted between the two renames of the fallback switch: the staged tree is whole
        staged.rename(out_dir)
    for leftover in (staged, old):
        if leftover.is_symlink() or leftover.is_file():
            leftover.unlink()
        elif leftover.exists():
            shutil.rmtree(leftover)


def _stage(out_dir: Path, changes: Changes) -> Path:
    """The complete new folder, beside the old one; the manifest is written last."""
    staged = _beside(out_dir, "new")
    present = _scan(out_dir)
    owned = owned_files(out_dir)
    try:
        staged.mkdir(mode=0o755)
        kept = sorted(
            p
            for p in present.files | present.links
            if p not in owned
            and p != MANIFEST
            and p not in changes.wanted
            and not p.endswith(STALE_TEMP_SUFFIX)
        )
        for folder in sorted(
            _kept_folders(present, owned) | {q for p in kept for q in _parents(p)}
        ):
            (staged / folder).mkdir(mode=0o755, exist_ok=True)
        for relative in kept:
            source = out_dir / relative
            if relative in present.links:
                (staged / relative).symlink_to(source.readlink())
            else:
                os.link(source, staged / relative, follow_symlinks=False)
        for relative, text in sorted(changes.wanted.items(), key=lambda i: i[0] == MANIFEST):
            target = staged / relative
            target.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
            if relative not in changes.write and relative in present.files:
                os.link(out_dir / relative, target, follow_symlinks=False)
                continue
            _write_new(target, text)
    except OSError as error:
        shutil.rmtree(staged, ignore_errors=True)
        raise LbgenError(f"cannot write into {out_dir}: {error}; nothing was changed") from error
    return staged


def _kept_folders(present: Present, owned: set[str]) -> set[str]:
    """Folders that stay whatever lbgen writes: empty ones, and those holding something that is
    not lbgen's. A folder that held only lbgen's files goes when they do."""
    holds_owned: set[str] = set()
    for path in present.files | present.links:
        if path in owned:
            holds_owned.update(_parents(path))
    return set(present.folders) - holds_owned


def _write_new(target: Path, text: str) -> None:
    # no fsync: out/ is regenerable and lives in git; the switch is what must be atomic
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as stream:
        stream.write(text)
    os.chmod(target, 0o644)  # noqa: PTH101 -- whatever the umask: outputs are shared configs


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2); False where the system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    done = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), RENAME_EXCHANGE)
    if done == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(a))


def _switch(staged: Path, out_dir: Path) -> None:
    old = _beside(out_dir, "old")
    try:
        if not out_dir.exists():
            staged.rename(out_dir)
            return
        if _exchange(staged, out_dir):
            staged.rename(old)
        else:
            out_dir.rename(old)
            staged.rename(out_dir)
    except OSError as error:
        raise LbgenError(
            f"cannot switch {out_dir} to the new tree: {error}; the next build repairs it"
        ) from error
    shutil.rmtree(old, ignore_errors=True)
