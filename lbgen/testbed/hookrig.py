"""The hook's rig, for its tests and benches: the paper's LB pod config, a stand-in keepalived
that records each SIGHUP it gets (keepalived_standin.py), and a wait that fails loudly."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from lbgen.compiler import compile_file
from lbgen.origin import repository_root
from lbgen.plan import PodConfig


def paper_pod(service: str = "web1", root: Path | None = None) -> PodConfig:
    """One LB pod's config from examples/paper.yaml of `root` (default: the repository holding
    the current folder)."""
    found = root or repository_root(Path.cwd()) or Path.cwd()
    plan = compile_file(found / "examples/paper.yaml", "examples/paper.yaml").plan
    assert plan is not None
    chosen = next(s for s in plan.services if s.name == service)
    return PodConfig(header="h", source="examples/paper.yaml", service=chosen)


def start_standin(folder: Path) -> tuple[subprocess.Popen[bytes], Path, Path]:
    pidfile, hups = folder / "keepalived.pid", folder / "sighup.log"
    argv = [sys.executable, "-m", "lbgen.testbed.keepalived_standin", str(pidfile), str(hups)]
    process = subprocess.Popen(argv)
    wait_for(lambda: pidfile.exists() and pidfile.read_text().strip() != "")
    return process, pidfile, hups


def sighups(log: Path) -> list[float]:
    return [float(line) for line in log.read_text().split()] if log.exists() else []


def wait_for(test: Callable[[], bool], timeout: float = 15, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not test():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or test}")
        time.sleep(0.005)
