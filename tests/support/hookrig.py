"""The hook's rig, for its tests and benches: the paper's LB pod config (from this repository's
examples/), and a stand-in keepalived that records each SIGHUP it gets (sighup_recorder.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from lbgen.compiler import compile_file
from lbgen.origin import repository_root
from lbgen.plan import PodConfig
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]


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
    argv = [sys.executable, "-m", "tests.support.sighup_recorder", str(pidfile), str(hups)]
    process = subprocess.Popen(argv, cwd=ROOT)
    wait_for(lambda: pidfile.exists() and pidfile.read_text().strip() != "")
    return process, pidfile, hups


def sighups(log: Path) -> list[float]:
    return [float(line) for line in log.read_text().split()] if log.exists() else []
