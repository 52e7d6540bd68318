"""How an LB leaves (its Deployment's preStop hooks). Where every router pins a leaving LB's
flows to it (resilientEcmp through lbgen router-fib) it withdraws at once: new flows go
elsewhere, its own keep reaching it while IPVS serves them for drainSeconds. Where every router
is resilient but some cannot pin (FRR's own knob) it drains first (keeps announcing, so the
router keeps sending it its buckets' flows), then withdraws, and IPVS outlives the route a
little. Elsewhere it withdraws at once (a hash-threshold router moves flows either way)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import yaml

from lbgen.compiler import compile_file
from lbgen.runtime.pod import process
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
