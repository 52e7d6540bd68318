"""The pod steps that only look at processes: liveness, withdraw, drain. They run often (kubelet
probes, preStop hooks), so this module imports nothing heavy."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from pathlib import Path

from lbgen.runtime.pod.probes import process_state


def alive(
    pidfile: Path, proc: Path = Path("/proc"), *, stopped_is_dead: bool = False
) -> str | None:
    """None when the process named by the pid file runs, else why not (`stopped_is_dead`: a
    process stopped by a signal, SIGSTOP, runs no more than a dead one)."""
    try:
        pid = int(pidfile.read_text(encoding="ascii").strip())
        stat = (proc / str(pid) / "stat").read_text(encoding="ascii")
    except (OSError, ValueError) as error:
        return f"{pidfile}: no running process ({error})"
    state = process_state(stat)
    if state == "Z":
        return f"process {pid} is a zombie"
    if stopped_is_dead and state in ("T", "t"):
        return f"process {pid} is stopped"
    return None


def silence(status: str, now: float) -> float:
    """How long since a status file's heartbeat (`beat`: CLOCK_MONOTONIC, the same in every
    container of the pod); ValueError, KeyError or TypeError when it has none."""
    return now - float(json.loads(status)["beat"])


def beating(status: Path, stale: float) -> str | None:
    """None when the status file's heartbeat is younger than `stale` seconds, else why not:
    its writer is gone or stuck."""
    try:
        silent = silence(status.read_text(encoding="utf-8"), time.monotonic())
    except (OSError, ValueError, KeyError, TypeError) as error:
        return f"{status}: no heartbeat ({error})"
    return f"{status}: silent for {silent:.0f} s" if silent > stale else None


def withdraw(
    pidfile: Path, wait: float = 5.0, proc: Path = Path("/proc"), after: float = 0.0
) -> str:
    """Stop exabgp so its sessions close and the reflectors withdraw the route at once; after
    `after` seconds of drain first, announcing as before (a resilient router keeps sending this
    LB its own flows, and they end in their time)."""
    with contextlib.suppress(KeyboardInterrupt):
        time.sleep(after)
    try:
        pid = int(pidfile.read_text(encoding="ascii").strip())
        cmdline = (proc / str(pid) / "cmdline").read_bytes()
    except (OSError, ValueError):
        return "exabgp is not running; nothing to withdraw"
    if b"exabgp" not in cmdline:
        return f"process {pid} is not exabgp; left alone"
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and _running(proc / str(pid)):
        time.sleep(0.05)
    if _running(proc / str(pid)):
        return f"exabgp {pid} did not stop within {wait:.0f} s; the hold time will withdraw it"
    return f"exabgp {pid} stopped; route withdrawn"


def _running(process: Path) -> bool:
    """True while the process exists and has not exited (a zombie has, its sessions closed)."""
    try:
        return process_state((process / "stat").read_text(encoding="ascii")) != "Z"
    except OSError:
        return False


def drain(seconds: int) -> None:
    """keepalived's preStop: keep IPVS serving open flows after the route is withdrawn."""
    with contextlib.suppress(KeyboardInterrupt):
        time.sleep(seconds)
