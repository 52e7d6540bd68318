"""The testbed's processes: started into its log folder, recorded by PID, ended all at once.

Ending signals every process first and then waits once (a zombie counts as ended: after `down`
in another process its exits are reaped by init, on init's schedule), and kills what outlives
a grace period; a PID is signalled only if it still runs in one of the testbed's namespaces."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

GRACE_SECONDS = 3.0


# forks, prints the child's PID and exits; the child starts a session, writes to the log (its
# stderr) and becomes argv
_DETACH = (
    "import os, sys\n"
    "pid = os.fork()\n"
    "if pid:\n"
    "    print(pid, flush=True)\n"
    "    os._exit(0)\n"
    "os.setsid()\n"
    "os.dup2(2, 1)\n"  # the log, not the pipe the PID went to
    "os.execvp(sys.argv[1], sys.argv[1:])\n"
)


def spawn(argv: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """A process of the testbed's, whose exit this process reaps."""
    with log.open("ab") as stream:
        return subprocess.Popen(
            argv,
            stdout=stream,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )


def spawn_detached(argv: list[str], log: Path, env: dict[str, str] | None = None) -> int:
    """A process that outlives the command that started it (`lbgen testbed up`): handed to
    init at once; its PID is all that is kept."""
    with log.open("ab") as stream:
        done = subprocess.run(
            [sys.executable, "-S", "-c", _DETACH, *argv],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stream,
            env={**os.environ, **(env or {})},
            check=True,
        )
    return int(done.stdout.strip())


def running(pid: int) -> bool:
    """A process that has not ended: a zombie has (its parent, or init, reaps it later)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def _gone(pid: int, child: subprocess.Popen[bytes] | None) -> bool:
    return child.poll() is not None if child is not None else not running(pid)


def end_all(
    pids: Iterable[int],
    children: dict[int, subprocess.Popen[bytes]],
    ours: Callable[[int], bool],
    sig: signal.Signals = signal.SIGTERM,
    grace: float = GRACE_SECONDS,
) -> None:
    """Signal every process, wait once for all of them, kill the survivors."""
    waiting, signalled = [], []
    for pid in pids:
        child = children.get(pid)
        if child is None and not ours(pid):
            continue  # started elsewhere, or the PID was reused: not ours to end
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        waiting.append(pid)
        signalled.append(pid)
    deadline = time.monotonic() + grace
    while waiting and time.monotonic() < deadline:
        waiting = [pid for pid in waiting if not _gone(pid, children.get(pid))]
        if waiting:
            time.sleep(0.02)
    for pid in waiting:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    # reap what was ended here, and only that: every other child still runs (waiting a second
    # on each of them made ending one LB of 27 processes take 27 s)
    for pid in signalled:
        child = children.get(pid)
        if child is not None and child.poll() is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=1)
