"""lbgen/testbed/host/processes.py: the testbed's processes end all at once, a zombie counting
as ended, waiting for none of the others."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from lbgen.testbed.host import processes as testbed_processes


def test_a_zombie_counts_as_ended_when_the_testbed_goes_down() -> None:
    """`down` from another process sees its processes' exits only as zombies until init reaps
    them; waiting for /proc/PID to vanish made down take 94–97 s."""
    child = subprocess.Popen(["true"])
    deadline = time.monotonic() + 10
    while testbed_processes.running(child.pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert Path(f"/proc/{child.pid}").exists()  # not reaped yet: a zombie
    assert not testbed_processes.running(child.pid)
    child.wait()
    assert not testbed_processes.running(child.pid)


def test_ending_one_testbed_process_leaves_the_others_running_and_waits_for_none_of_them() -> None:
    """Stopping one LB ended it, then waited a second on every other child still running: 27 s
    to stop one LB of the edge testbed (its withdraw took 0.24 s)."""
    waited: list[int] = []

    class Watched(subprocess.Popen[bytes]):
        def wait(self, timeout: float | None = None) -> int:
            waited.append(self.pid)
            return super().wait(timeout)

    others = [Watched(["sleep", "30"]) for _ in range(3)]
    one = Watched(["sleep", "30"])
    children: dict[int, subprocess.Popen[bytes]] = {p.pid: p for p in [*others, one]}
    try:
        testbed_processes.end_all([one.pid], children, lambda _pid: True)
        assert one.poll() is not None
        assert all(p.poll() is None for p in others)
        assert not {p.pid for p in others} & set(waited)
    finally:
        for p in others:
            p.kill()
            p.wait()
