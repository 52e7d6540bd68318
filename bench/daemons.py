"""What the benches that run BGP daemons share: waiting on a condition, a process's peak RSS,
starting FRR as Debian's frr.service does, ending the daemons they started (by their own
handles), and asking FRR and gobgpd."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from lbgen.testbed.host.netns import inside
from lbgen.testbed.host.processes import spawn
from lbgen.testbed.model.daemons import frr_argv

GOBGP_PORT = "50151"
TIMEOUT = 600.0


def wait(test: Callable[[], bool], what: str) -> float:
    start = time.monotonic()
    while not test():
        if time.monotonic() - start > TIMEOUT:
            raise TimeoutError(f"{what}: not within {TIMEOUT:.0f} s")
        time.sleep(0.05)
    return time.monotonic() - start


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):  # the peak
            return int(line.split()[1]) / 1024
    return 0.0


def stop(children: list[subprocess.Popen[bytes]]) -> None:
    for child in children:
        with contextlib.suppress(ProcessLookupError):
            child.send_signal(signal.SIGTERM)
    for child in children:
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def frr_boot(
    netns: str, folder: Path, daemons: list[str], children: list[subprocess.Popen[bytes]]
) -> float:
    """FRR's daemons on folder/frr.conf as frr.service starts them: each with no configuration
    of its own, then `vtysh -b` sending them the integrated one, one transaction per run of
    YANG commands (a daemon that reads frr.conf itself commits each command apart: at 1,000
    nodes the reflector's never finished). Each daemon is added to `children` as it starts
    (the caller stops them); returns the seconds vtysh took."""
    (folder / "empty.conf").write_text("")
    for daemon in daemons:
        argv = frr_argv(netns, daemon, folder, "empty.conf")
        children.append(spawn(argv, folder / f"{daemon}.log"))
    wait(lambda: all((folder / f"{d}.vty").exists() for d in daemons), "FRR's vty sockets")
    start = time.monotonic()
    subprocess.run(
        ["vtysh", "--vty_socket", str(folder), "-f", str(folder / "frr.conf")],
        capture_output=True,
        check=True,
        timeout=TIMEOUT,
    )
    return time.monotonic() - start


def vtysh(folder: Path, command: str) -> str:
    done = subprocess.run(
        ["vtysh", "--vty_socket", str(folder), "-c", command],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout if done.returncode == 0 else ""


def gobgp(netns: str, *argv: str) -> str:
    """gobgp's CLI, in the namespace whose loopback its API listens on."""
    done = subprocess.run(
        inside(netns, "gobgp", "-p", GOBGP_PORT, *argv), capture_output=True, text=True, check=False
    )
    return done.stdout if done.returncode == 0 else ""
