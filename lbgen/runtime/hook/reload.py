"""Apply a rendered keepalived.conf safely: write `.new`, run keepalived's own check on it,
keep `.failed` when it is refused, else rename it into place and SIGHUP keepalived."""

from __future__ import annotations

import enum
import logging
import os
import signal
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


class Outcome(enum.StrEnum):
    UNCHANGED = "unchanged"
    RELOADED = "reloaded"
    WRITTEN = "written"  # in place, but no keepalived to tell yet: it reads it when it starts
    REFUSED = "refused"
    KEPT = "kept"  # not applied: the slices resolve no port for a pool; the old one serves


@dataclass
class Reloader:
    conf: Path
    pidfile: Path
    # keepalived's dry run; -e fails on a missing include too
    check: Sequence[str] = ("keepalived", "-t", "-e", "-f")

    def apply(self, text: str, *, signal_anyway: bool = False) -> Outcome:
        """`signal_anyway`: SIGHUP even when the file already holds `text` (a hook killed
        between rename and SIGHUP left keepalived on the previous config)."""
        try:
            if self.conf.read_text(encoding="utf-8") == text:
                return self._signal() if signal_anyway else Outcome.UNCHANGED
        except FileNotFoundError:
            pass
        new = self.conf.with_name(self.conf.name + ".new")
        new.write_text(text, encoding="utf-8")
        done = subprocess.run(
            [*self.check, str(new)], capture_output=True, text=True, timeout=30, check=False
        )
        if done.returncode != 0:
            failed = self.conf.with_name(self.conf.name + ".failed")
            new.replace(failed)
            log.error(
                "keepalived refused the new config (kept as %s, serving the old one): %s",
                failed,
                (done.stderr or done.stdout).strip()[-2000:],
            )
            return Outcome.REFUSED
        new.replace(self.conf)
        return self._signal()

    def _signal(self) -> Outcome:
        pid = self._keepalived_pid()
        if pid is None:
            return Outcome.WRITTEN
        os.kill(pid, signal.SIGHUP)
        return Outcome.RELOADED

    def _keepalived_pid(self) -> int | None:
        try:
            pid = int(self.pidfile.read_text(encoding="ascii").strip())
        except (OSError, ValueError):
            log.warning("no keepalived pid in %s: config written, not signalled", self.pidfile)
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            log.warning("keepalived pid %d from %s is not running", pid, self.pidfile)
            return None
        return pid
