"""lbgen/runtime/pod/facts.py: what an LB pod knows of itself: its downward-API addresses (IPv4
or IPv6, refused when not addresses) and the lb.json the build wrote."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address
from pathlib import Path

import pytest

from lbgen.compiler import compile_file
from lbgen.errors import LbgenError
from lbgen.runtime.pod.facts import pod_facts, read_pod_config
from tests.conftest import ROOT


def test_the_pod_wants_its_downward_api_facts_in_ipv6() -> None:
    facts = pod_facts({"POD_IP": "fd00:71:0:1::a", "NODE_IP": "fd00:70::11"}, 6)
    assert facts.pod_ip == IPv6Address("fd00:71:0:1::a")
    with pytest.raises(LbgenError, match="IPv6 addresses"):
        pod_facts({"POD_IP": "10.0.0.1", "NODE_IP": "fd00:70::11"}, 6)
    with pytest.raises(LbgenError, match="IPv4 addresses"):
        pod_facts({"POD_IP": "fd00:71:0:1::a", "NODE_IP": "fd00:70::11"}, 4)


def test_downward_api_facts_must_be_addresses() -> None:
    assert pod_facts({"POD_IP": "172.16.20.2", "NODE_IP": "10.0.0.106"}).node_ip == IPv4Address(
        "10.0.0.106"
    )
    with pytest.raises(LbgenError, match="POD_IP and NODE_IP"):
        pod_facts({"POD_IP": "172.16.20.2"})


def test_the_pod_reads_the_lb_json_the_build_wrote(tmp_path: Path) -> None:
    result = compile_file(ROOT / "examples/paper.yaml", "examples/paper.yaml")
    assert result.tree is not None
    (tmp_path / "lb.json").write_text(result.tree["cluster/services/web2/lb.json"])
    assert read_pod_config(tmp_path / "lb.json").service.name == "web2"
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(LbgenError, match="not an lbgen LB config"):
        read_pod_config(tmp_path / "bad.json")
