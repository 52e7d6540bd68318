"""How an LB leaves (its Deployment's preStop hooks): where every router forwards through
resilient groups it drains first (keeps announcing for drainSeconds, so the router keeps sending
it its own flows), then withdraws, and IPVS outlives the route a little; elsewhere it withdraws
at once, so that new flows go elsewhere (a hash-threshold router moves flows either way)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import yaml

from lbgen.compiler import compile_file
from lbgen.runtime.pod import process
from tests.conftest import ROOT


def _pre_stops(example: str, service: str) -> dict[str, list[str]]:
    result = compile_file(ROOT / f"examples/{example}.yaml", f"examples/{example}.yaml")
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


def test_with_resilient_routers_an_lb_drains_then_withdraws_and_ipvs_outlives_the_route() -> None:
    hooks = _pre_stops("paper", "web1")  # its router: resilientEcmp
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
