"""An IPv6-only cluster (examples/ipv6.yaml) from the plan to the boxes and the LB pod: sessions
over IPv6 with 32-bit identifiers, no IPv4 anywhere it is not wanted (sysctls, pools, datapath,
Service families), the pod's probes reading /proc/net/tcp6 and listening where the kubelet asks,
and the node agent routing prefixes to pods' IPv6 addresses; and an IPv6 service (a prefix6
alone) in a dual-stack cluster."""

from __future__ import annotations

import os
import urllib.request
from ipaddress import IPv4Address, IPv6Address, IPv6Network
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from lbgen.compiler import compile_file, compile_text
from lbgen.errors import LbgenError
from lbgen.plan import Plan, PodConfig, ServicePlan
from lbgen.render import sysctl
from lbgen.render.exabgp import router_id
from lbgen.render.k8s.lb import load_balancer_service
from lbgen.runtime.agent.routes import Allowed, desired_routes
from lbgen.runtime.hook.pool import families_of, pools_from_slices
from lbgen.runtime.kube.serving import serve_probes
from lbgen.runtime.pod.datapath import local_routes, nft_ruleset
from lbgen.runtime.pod.facts import pod_facts
from lbgen.runtime.pod.health import ready
from lbgen.runtime.pod.probes import established_bgp_peers
from lbgen.runtime.pod.steps import exabgp_conf
from lbgen.testbed.slices import endpoint, endpoint_slice
from tests.conftest import ROOT
from tests.support.podrun import pod_run


@pytest.fixture(scope="module")
def plan() -> Plan:
    found = compile_file(ROOT / "examples/ipv6.yaml", "examples/ipv6.yaml").plan
    assert found is not None
    return found


@pytest.fixture(scope="module")
def web(plan: Plan) -> ServicePlan:
    return next(s for s in plan.services if s.name == "web")


def test_the_sessions_run_over_ipv6_and_carry_ipv6_unicast_only(plan: Plan) -> None:
    assert plan.session_version == 6
    assert plan.families == ("ipv6",)
    assert {str(rr.address) for rr in plan.reflectors} == {"fd00:70::2", "fd00:70::3"}
    assert {str(p.address) for p in plan.routers[0].reflectors} == {"fd00:70::2", "fd00:70::3"}
    assert {str(rr.pod_range) for rr in plan.reflectors} == {"fd00:71::/56"}
    # the router-ids the spec names: an IPv6 address gives none
    assert [str(r.router_id) for r in plan.routers] == ["10.255.70.1"]
    for grant in plan.reflectors[0].grants:
        assert grant.next_hop is None
        assert not any(g.prefixes for g in plan.reflectors[0].groups)
        assert isinstance(grant.peers, IPv6Network)  # the node's podSubnet6


def test_an_lb_pods_router_id_is_hashed_from_its_ipv6_address() -> None:
    assert router_id(IPv4Address("10.0.0.7")) == IPv4Address("10.0.0.7")
    pod = IPv6Address("fd00:71:0:1::a")
    assert router_id(pod) == router_id(IPv6Address(str(pod)))  # the same on every start
    # 256 pods on each of 64 nodes: no two share one
    pods = [IPv6Address(f"fd00:71:0:{n:x}::{h:x}") for n in range(64) for h in range(256)]
    assert len({router_id(p) for p in pods}) == len(pods)
    assert all(int(router_id(p)) != 0 for p in pods)


def test_routers_and_nodes_forward_ipv6_only(plan: Plan) -> None:
    keys = {s.key for s in sysctl.router(plan.routers[0].families)}
    assert keys == {"net.ipv6.conf.all.forwarding", "net.ipv6.fib_multipath_hash_policy"}
    node = {s.key for s in sysctl.node(plan.nodes[0])}
    assert "net.ipv4.ip_forward" not in node
    assert "net.ipv6.conf.all.forwarding" in node


def test_the_lb_pod_serves_ipv6_only(plan: Plan, web: ServicePlan) -> None:
    assert families_of(web) == frozenset({"IPv6"})
    slices = [
        endpoint_slice("v4", [endpoint("10.0.0.5")], service="web-app"),
        {
            **endpoint_slice("v6", [endpoint("fd00:71:0:2::100")], service="web-app"),
            "addressType": "IPv6",
        },
    ]
    pools = pools_from_slices(slices, web)
    assert [s.address for s in pools[("http", "TCP")]] == [IPv6Address("fd00:71:0:2::100")]
    route = ["ip", "-6", "route", "replace", "local", "2001:db8:70::/64", "dev", "lo"]
    assert local_routes(web) == [[*route, "table", "local"]]
    ruleset = nft_ruleset(web)
    assert "table ip6 lbgen" in ruleset
    assert "table ip " not in ruleset
    spec = load_balancer_service(plan, web)["spec"]
    assert (spec["ipFamilies"], spec["ipFamilyPolicy"]) == (["IPv6"], "SingleStack")


def test_the_pod_wants_its_downward_api_facts_in_ipv6() -> None:
    facts = pod_facts({"POD_IP": "fd00:71:0:1::a", "NODE_IP": "fd00:70::11"}, 6)
    assert facts.pod_ip == IPv6Address("fd00:71:0:1::a")
    with pytest.raises(LbgenError, match="IPv6 addresses"):
        pod_facts({"POD_IP": "10.0.0.1", "NODE_IP": "fd00:70::11"}, 6)
    with pytest.raises(LbgenError, match="IPv4 addresses"):
        pod_facts({"POD_IP": "fd00:71:0:1::a", "NODE_IP": "fd00:70::11"}, 4)


# /proc/net/tcp6: fd00:71:0:1::a port 40000 → fd00:70::2 port 179, established
TCP6 = (
    "  sl  local_address                         remote_address                        st\n"
    "   0: 710000FD01000000000000000A000000:9C40 700000FD000000000000000002000000:00B3 01\n"
    "   1: 710000FD01000000000000000A000000:9C41 700000FD000000000000000003000000:00B3 02\n"
)


def test_readiness_reads_the_ipv6_session_from_proc_net_tcp6(
    web: ServicePlan, tmp_path: Path
) -> None:
    pod = IPv6Address("fd00:71:0:1::a")
    assert established_bgp_peers(TCP6, pod) == {IPv6Address("fd00:70::2")}
    proc, run = tmp_path / "proc", tmp_path / "run"
    (proc / "net").mkdir(parents=True)
    (proc / "net/tcp6").write_text(TCP6)
    (proc / "net/ip_vs").write_text("")
    (proc / str(os.getpid())).symlink_to(f"/proc/{os.getpid()}")
    pod_run(run, configured=[["TCP", "2001:db8:70::80", 80]])
    lb_json = PodConfig(header="h", source="s", service=web).model_dump_json()
    assert ready(lb_json, {"POD_IP": str(pod)}, proc, run) == [
        "IPVS has no virtual service for TCP 2001:db8:70::80:80"
    ]
    assert ready(lb_json, {"POD_IP": "10.0.0.1"}, proc, run) == [
        "POD_IP is not set to the pod's IPv6 address (downward API status.podIP)"
    ]


def test_the_node_agent_routes_each_prefix_to_the_pods_ipv6_address(plan: Plan) -> None:
    allowed = Allowed({}, {s.name: s.prefix6 for s in plan.services if s.prefix6})
    pod = {
        "metadata": {"name": "web-1", "labels": {"lbgen.io/service": "web"}},
        "spec": {"nodeName": "n1"},
        "status": {"phase": "Running", "podIP": "fd00:71:0:1::a"},
    }
    stranger = {**pod, "metadata": {"name": "x", "labels": {"lbgen.io/service": "nope"}}}
    routes, refused = desired_routes([pod, stranger], "n1", allowed)
    assert routes == {IPv6Network("2001:db8:70::/64"): IPv6Address("fd00:71:0:1::a")}
    assert refused == 1


def test_probes_listen_on_an_ipv6_address() -> None:
    server = serve_probes(CollectorRegistry(), lambda: None, lambda: True, 0, "::1")
    try:
        port = server.server_address[1]
        with urllib.request.urlopen(f"http://[::1]:{port}/readyz", timeout=5) as answer:
            assert answer.status == 200
    finally:
        server.shutdown()
        server.server_close()


def test_an_ipv6_service_in_a_dual_stack_cluster_rides_the_ipv4_sessions(tmp_path: Path) -> None:
    """examples/dualstack.yaml with `web` given only its prefix6: the pod peers over IPv4 as
    every other, and announces and serves IPv6 alone."""
    text = (ROOT / "examples/dualstack.yaml").read_text()
    text = text.replace("      prefix: 203.0.113.64/28\n", "").replace("203.0.113.65, ", "")
    found = compile_text(text, "dualstack.yaml")
    assert found.plan is not None, found.diagnostics
    plan = found.plan
    web = next(s for s in plan.services if s.name == "web")
    assert (plan.session_version, plan.families) == (4, ("ipv4", "ipv6"))
    assert (web.prefix, web.vips, web.session_version) == (None, (), 4)
    env = {"POD_IP": "10.60.1.11", "NODE_IP": "192.168.60.11", "NODE_NAME": "n1"}
    assert found.tree is not None
    nodes = tmp_path / "nodes.json"
    nodes.write_text(found.tree["cluster/fabric/nodes.json"])
    conf = exabgp_conf(PodConfig(header="h", source="s", service=web), env, nodes_path=nodes)
    assert "neighbor 192.168.60.2 {" in conf
    assert "router-id 10.60.1.11;" in conf
    assert "ipv4 unicast" not in conf
    assert "--route 2001:db8:64::/64 fd00:60::11;" in conf
    assert families_of(web) == frozenset({"IPv6"})
    assert load_balancer_service(plan, web)["spec"]["ipFamilies"] == ["IPv6"]
    allowed = Allowed({}, {"web": IPv6Network("2001:db8:64::/64")})
    pod = {
        "metadata": {"name": "web-1", "labels": {"lbgen.io/service": "web"}},
        "spec": {"nodeName": "n1"},
        "status": {
            "phase": "Running",
            "podIP": "10.60.1.11",
            "podIPs": [{"ip": "10.60.1.11"}, {"ip": "fd00:61:0:1::b"}],
        },
    }
    routes, refused = desired_routes([pod], "n1", allowed)
    assert routes == {IPv6Network("2001:db8:64::/64"): IPv6Address("fd00:61:0:1::b")}
    assert refused == 0
