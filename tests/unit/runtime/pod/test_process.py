"""lbgen/runtime/pod/process.py: how an LB leaves (its Deployment's preStop hooks). Where every
router pins a leaving LB's flows to it (resilientEcmp through lbgen router-fib) it withdraws at
once: new flows go elsewhere, its own keep reaching it while IPVS serves them for drainSeconds.
Where every router is resilient but some cannot pin (FRR's own knob) it drains first (keeps
announcing, so the router keeps sending it its buckets' flows), then withdraws, and IPVS
outlives the route a little. Elsewhere it withdraws at once (a hash-threshold router moves
flows either way). It also says which processes live (exabgp's liveness wants the announcer's
heartbeat) and stops exabgp alone."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from lbgen.compiler import compile_file
from lbgen.runtime.pod import process
from lbgen.runtime.pod.process import beating
from tests.conftest import ROOT


def _pre_stops(example: str | Path, service: str) -> dict[str, list[str]]:
    path = example if isinstance(example, Path) else ROOT / f"examples/{example}.yaml"
    result = compile_file(path, path.name)
    assert result.tree is not None
    deployment: dict[str, Any] = yaml.safe_load(
        result.tree[f"cluster/services/{service}/deployment.yaml"].split("\n", 1)[1]
    )
    containers = deployment["spec"]["template"]["spec"]["containers"]
    return {
        c["name"]: c["lifecycle"]["preStop"]["exec"]["command"]
        for c in containers
        if "lifecycle" in c
    }


def _child(*argv: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", *argv])


def test_exabgps_liveness_wants_the_announcers_heartbeat(tmp_path: Path) -> None:
    status = tmp_path / "announce.json"
    assert "no heartbeat" in (beating(status, 30) or "")
    status.write_text(json.dumps({"beat": time.monotonic() - 5}))
    assert beating(status, 30) is None
    status.write_text(json.dumps({"beat": time.monotonic() - 45}))
    assert "silent for 45 s" in (beating(status, 30) or "")


def test_where_routers_pin_an_lb_withdraws_at_once_and_ipvs_serves_its_flows() -> None:
    hooks = _pre_stops("paper", "web1")  # its router: resilientEcmp via router-fib
    assert "--after" not in hooks["exabgp"]
    assert hooks["keepalived"][-2:] == ["--seconds", "10"]


def test_where_routers_cannot_pin_an_lb_drains_then_withdraws_and_ipvs_outlives_the_route(
    tmp_path: Path,
) -> None:
    spec = (ROOT / "examples/paper.yaml").read_text()
    zebra = tmp_path / "paper.yaml"
    zebra.write_text(
        spec.replace("resilientEcmp: {}", "resilientEcmp: {via: zebra, unbalancedTimer: 60}")
    )
    hooks = _pre_stops(zebra, "web1")
    assert hooks["exabgp"][-2:] == ["--after", "10"]
    assert hooks["keepalived"][-2:] == ["--seconds", "12"]


def test_with_hash_threshold_routers_an_lb_withdraws_at_once() -> None:
    hooks = _pre_stops("edge", "dns")
    assert "--after" not in hooks["exabgp"]
    assert hooks["keepalived"][-2:] == ["--seconds", "10"]


def test_withdraw_after_a_drain_waits_first(tmp_path: Path) -> None:
    started = time.monotonic()
    assert "nothing to withdraw" in process.withdraw(tmp_path / "none.pid", after=0.3)
    assert time.monotonic() - started >= 0.3


def test_alive_sees_a_running_process_and_a_missing_one(tmp_path: Path) -> None:
    child = _child()
    try:
        (tmp_path / "k.pid").write_text(f"{child.pid}\n")
        assert process.alive(tmp_path / "k.pid") is None
    finally:
        child.kill()
        child.wait()
    assert "no running process" in (process.alive(tmp_path / "k.pid") or "")
    assert "no running process" in (process.alive(tmp_path / "missing.pid") or "")


def test_withdraw_stops_exabgp_and_leaves_other_processes_alone(tmp_path: Path) -> None:
    exabgp, other = _child("exabgp", "/run/lbgen/exabgp.conf"), _child("keepalived")
    try:
        (tmp_path / "other.pid").write_text(f"{other.pid}\n")
        assert "not exabgp" in process.withdraw(tmp_path / "other.pid")
        assert other.poll() is None
        (tmp_path / "exabgp.pid").write_text(f"{exabgp.pid}\n")
        assert "route withdrawn" in process.withdraw(tmp_path / "exabgp.pid")
        assert exabgp.wait(timeout=5) != 0
    finally:
        for child in (exabgp, other):
            child.kill()
            child.wait()
    assert "nothing to withdraw" in process.withdraw(tmp_path / "exabgp.pid")
