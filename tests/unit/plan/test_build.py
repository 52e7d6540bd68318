"""lbgen/plan/build.py: the plan resolves every default and places LBs deterministically; its
families and sessions per cluster (IPv6-only sessions with 32-bit router ids, an IPv6 service
riding a dual-stack cluster's IPv4 sessions), default IPv6 VIPs, and a round trip through
JSON for the LB pod."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address, IPv6Network
from pathlib import Path

from lbgen.compiler import compile_file, compile_text
from lbgen.plan import Plan, PodConfig
from lbgen.render.k8s.lb import load_balancer_service
from lbgen.runtime.agent.routes import Allowed, desired_routes
from lbgen.runtime.hook.pool import families_of
from lbgen.runtime.pod.steps import exabgp_conf
from tests.conftest import CASES, ROOT


def test_the_default_ipv6_vip_is_the_first_host_and_a_128_its_own_address(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    text = (ROOT / "examples/dualstack.yaml").read_text()
    spec.write_text(text.replace('      vips: [203.0.113.65, "2001:db8:64::80"]\n', ""))
    for prefix6, vip in (("2001:db8:64::/64", "2001:db8:64::1"), ("2001:db8:64::9/128", None)):
        spec.write_text(spec.read_text().replace('"2001:db8:64::/64"', f'"{prefix6}"'))
        plan = compile_file(spec, "spec.yaml").plan
        assert plan is not None
        web = next(s for s in plan.services if s.name == "web")
        assert web.vips6 == (IPv6Address(vip or prefix6.split("/")[0]),)


def test_the_sessions_run_over_ipv6_and_carry_ipv6_unicast_only(six_plan: Plan) -> None:
    assert six_plan.session_version == 6
    assert six_plan.families == ("ipv6",)
    assert {str(rr.address) for rr in six_plan.reflectors} == {"fd00:70::2", "fd00:70::3"}
    assert {str(p.address) for p in six_plan.routers[0].reflectors} == {"fd00:70::2", "fd00:70::3"}
    assert {str(rr.pod_range) for rr in six_plan.reflectors} == {"fd00:71::/56"}
    # the router-ids the spec names: an IPv6 address gives none
    assert [str(r.router_id) for r in six_plan.routers] == ["10.255.70.1"]
    for grant in six_plan.reflectors[0].grants:
        assert grant.next_hop is None
        assert not any(g.prefixes for g in six_plan.reflectors[0].groups)
        assert isinstance(grant.peers, IPv6Network)  # the node's podSubnet6


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


def test_paper_places_web1_on_three_lb_nodes_and_web2_on_two_of_them() -> None:
    plan = compile_file(ROOT / "examples/paper.yaml", "paper.yaml").plan
    assert plan is not None
    placement = {s.name: s.placement for s in plan.services}
    assert placement == {"web1": ("node4", "node5", "node6"), "web2": ("node4", "node5")}
    assert {n.name: n.load_balancers for n in plan.nodes}["node4"] == ("web1", "web2")
    assert plan.reflectors[0].add_paths_send_max == 3


def test_defaults_are_resolved_in_the_plan() -> None:
    plan = compile_file(CASES / "valid/minimal-defaults/spec.yaml", "spec.yaml").plan
    assert plan is not None
    shop = plan.services[0]
    assert shop.vips == (IPv4Address("203.0.113.1"),)
    assert shop.scheduler == "mh"
    assert shop.backend.namespace == "default"
    assert shop.replicas == 2
    assert plan.routers[0].router_id == IPv4Address("192.168.10.1")
    assert plan.reflectors[0].cluster_id == IPv4Address("192.168.10.2")
    assert (plan.timers.hold_time, plan.timers.keepalive) == (9, 3)


def test_the_plan_round_trips_through_json_for_the_lb_pod() -> None:
    plan = compile_file(ROOT / "examples/paper.yaml", "paper.yaml").plan
    assert plan is not None
    assert type(plan).model_validate_json(plan.model_dump_json()) == plan
