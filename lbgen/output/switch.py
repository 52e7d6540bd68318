"""Writing a folder whole: stage the new tree beside the old one, switch with one atomic
rename, repair what an interrupted build left; one build at a time per out/ folder."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

from lbgen.errors import LbgenError
from lbgen.output.folder import (
    MANIFEST,
    STALE_TEMP_SUFFIX,
    Changes,
    Present,
    owned_files,
    parents,
    scan,
)

LOCK_WAIT_SECONDS = 120.0
RENAME_EXCHANGE = 2  # linux/fs.h


def _beside(out_dir: Path, what: str) -> Path:
    return out_dir.parent / f".{out_dir.name}.lbgen-{what}"


@contextlib.contextmanager
def turn(out_dir: Path) -> Iterator[None]:
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


def stage(out_dir: Path, changes: Changes) -> Path:
    """The complete new folder, beside the old one; the manifest is written last."""
    staged = _beside(out_dir, "new")
    present = scan(out_dir)
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
        for folder in sorted(_kept_folders(present, owned) | {q for p in kept for q in parents(p)}):
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
            holds_owned.update(parents(path))
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


def put_in_place(staged: Path, out_dir: Path) -> None:
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
