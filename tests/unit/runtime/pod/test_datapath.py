"""lbgen/runtime/pod/datapath.py: an LB pod's datapath: its prefix routed as local, IPVS's
traffic masqueraded (ip and ip6), its sysctls checked, per family (a dual-stack service, an
IPv6-only cluster)."""

from __future__ import annotations

from ipaddress import IPv6Address

import pytest

from lbgen.compiler import compile_file
from lbgen.plan import Plan, PodConfig, ServicePlan
from lbgen.render.k8s.lb import load_balancer_service
from lbgen.runtime.hook.pool import families_of, pools_from_slices
from lbgen.runtime.hook.status import wanted_status
from lbgen.runtime.pod.datapath import local_routes, nft_ruleset, sysctl_problems
from lbgen.testbed.model.slices import endpoint, endpoint_slice
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def config() -> PodConfig:
    plan = compile_file(ROOT / "examples/paper.yaml", "examples/paper.yaml").plan
    assert plan is not None
    return PodConfig(header="h", source="examples/paper.yaml", service=plan.services[0])


def test_the_datapath_has_an_ipv6_side(dual_web: ServicePlan) -> None:
    routes = local_routes(dual_web)
    assert routes[1] == [
        *("ip", "-6", "route", "replace", "local", "2001:db8:64::/64"),
        *("dev", "lo", "table", "local"),
    ]
    ruleset = nft_ruleset(dual_web)
    assert "table ip6 lbgen {" in ruleset
    assert "ip6 daddr fd00:61::/56 ct original ip6 daddr { 2001:db8:64::80 } masquerade" in ruleset
    assert ("net.ipv6.conf.all.forwarding", "1") in dual_web.pod_sysctls
    ips = [i["ip"] for i in wanted_status(dual_web)["loadBalancer"]["ingress"]]
    assert ips == ["203.0.113.65", "2001:db8:64::80"]


def test_the_lb_pod_serves_ipv6_only(six_plan: Plan, six_web: ServicePlan) -> None:
    assert families_of(six_web) == frozenset({"IPv6"})
    slices = [
        endpoint_slice("v4", [endpoint("10.0.0.5")], service="web-app"),
        {
            **endpoint_slice("v6", [endpoint("fd00:71:0:2::100")], service="web-app"),
            "addressType": "IPv6",
        },
    ]
    pools = pools_from_slices(slices, six_web)
    assert [s.address for s in pools[("http", "TCP")]] == [IPv6Address("fd00:71:0:2::100")]
    route = ["ip", "-6", "route", "replace", "local", "2001:db8:70::/64", "dev", "lo"]
    assert local_routes(six_web) == [[*route, "table", "local"]]
    ruleset = nft_ruleset(six_web)
    assert "table ip6 lbgen" in ruleset
    assert "table ip " not in ruleset
    spec = load_balancer_service(six_plan, six_web)["spec"]
    assert (spec["ipFamilies"], spec["ipFamilyPolicy"]) == (["IPv6"], "SingleStack")


def test_the_prefix_is_routed_as_local_so_ipvs_sees_every_vip(config: PodConfig) -> None:
    assert local_routes(config.service) == [
        [
            "ip",
            "-4",
            "route",
            "replace",
            "local",
            "10.1.1.0/24",
            "dev",
            "lo",
            "table",
            "local",
        ]
    ]


def test_ipvs_traffic_to_backends_is_masqueraded(config: PodConfig) -> None:
    assert "ip daddr 172.16.0.0/16 ct original ip daddr { 10.1.1.1 } masquerade" in nft_ruleset(
        config.service
    )


def test_missing_or_wrong_sysctls_are_named() -> None:
    problems = sysctl_problems(
        {
            "net.ipv4.ip_forward": "0\n",
            "net.ipv4.vs.conntrack": None,
            "net.ipv4.vs.conn_reuse_mode": "0",
            "net.ipv4.vs.expire_nodest_conn": "0",
        }
    )
    assert problems == [
        "net.ipv4.ip_forward is 0, needs 1",
        "net.ipv4.vs.conntrack does not exist (is ip_vs loaded on the node?)",
    ]
