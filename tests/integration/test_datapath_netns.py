"""The node agent's routes and the LB pod's datapath, applied for real in a namespace."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from lbgen.compiler import compile_file
from lbgen.runtime.agent.run import RouteTable
from lbgen.runtime.pod.datapath import local_routes, nft_ruleset
from tests.conftest import ROOT, require_tool
from tests.unit.runtime.agent.test_routes import ALLOWED, pod

pytestmark = pytest.mark.daemons


def _ip(netns: str, *argv: str) -> str:
    return subprocess.run(
        ["ip", "-n", netns, *argv], capture_output=True, text=True, check=True
    ).stdout


def _routes(netns: str) -> list[dict[str, Any]]:
    return json.loads(_ip(netns, "-j", "route", "show", "proto", "249") or "[]")


def test_the_agent_routes_prefixes_to_lb_pods_and_removes_them_when_pods_go(netns: str) -> None:
    # the node's pod bridge, where LB pods' addresses are on-link
    _ip(netns, "link", "add", "cni0", "type", "bridge")
    _ip(netns, "addr", "add", "172.16.4.1/24", "dev", "cni0")
    _ip(netns, "link", "set", "cni0", "up")
    _ip(netns, "route", "add", "192.0.2.0/24", "via", "172.16.4.254")  # not lbgen's
    _ip(netns, "route", "add", "10.9.9.0/24", "via", "172.16.4.250", "proto", "249")  # theirs
    table = RouteTable(ALLOWED, netns)
    pods = {
        "a": pod("lb-web1-a", "node4", "172.16.4.2"),
        "b": pod("lb-web2-a", "node4", "172.16.4.3", "web2"),
        "evil": pod("lb-x", "node4", "172.16.4.66", "nope", annotation="0.0.0.0/0"),
    }
    table.reconcile(pods, "node4")
    assert {(r["dst"], r["gateway"]) for r in _routes(netns)} == {
        ("10.1.1.0/24", "172.16.4.2"),
        ("10.1.2.0/24", "172.16.4.3"),
        ("10.9.9.0/24", "172.16.4.250"),
    }
    assert table.reconcile(pods, "node4") == []  # converged: nothing to do
    del pods["b"]
    table.reconcile(pods, "node4")
    # another fabric's route (same protocol number) is left alone
    assert {(r["dst"], r["gateway"]) for r in _routes(netns)} == {
        ("10.1.1.0/24", "172.16.4.2"),
        ("10.9.9.0/24", "172.16.4.250"),
    }
    assert "default" not in _ip(netns, "route", "show")
    assert "192.0.2.0/24 via 172.16.4.254" in _ip(netns, "route", "show")


def test_the_lb_pod_datapath_loads_and_reloads_cleanly(netns: str) -> None:
    nft = require_tool("nft")
    plan = compile_file(ROOT / "examples/paper.yaml", "examples/paper.yaml").plan
    assert plan is not None
    service = plan.services[0]
    for _ in range(2):  # the init container may run again after a restart
        for route in local_routes(service):
            subprocess.run(["ip", "netns", "exec", netns, *route], check=True)
        subprocess.run(
            ["ip", "netns", "exec", netns, nft, "-f", "-"],
            input=nft_ruleset(service),
            text=True,
            check=True,
        )
    assert "local 10.1.1.0/24 dev lo" in _ip(netns, "route", "show", "table", "local")
    ruleset = subprocess.run(
        ["ip", "netns", "exec", netns, nft, "list", "ruleset"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert ruleset.count("masquerade") == 1
    assert "ct original ip daddr 10.1.1.1 masquerade" in ruleset
