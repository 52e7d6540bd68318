"""A dual-stack service (examples/dualstack.yaml's web) from the plan to the LB pod: its IPv6
pool from the backend's IPv6 EndpointSlices, its keepalived IPv6 virtual servers, its datapath
(local route, ip6 masquerade, sysctls), the kernel order kept per family, its Service status,
and the exabgp.conf the pod renders on its node (and refuses on a node with no address6)."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address
from pathlib import Path

import pytest

from lbgen.compiler import compile_file
from lbgen.errors import LbgenError
from lbgen.plan import PodConfig, ServicePlan
from lbgen.render.keepalived import RealServer, virtual_servers
from lbgen.runtime.hook.order import rebuild, wanted_orders
from lbgen.runtime.hook.pool import pools_from_slices
from lbgen.runtime.hook.status import wanted_status
from lbgen.runtime.ipvs import read_ipvs
from lbgen.runtime.pod.datapath import local_routes, nft_ruleset
from lbgen.runtime.pod.health import Observed, datapath_problems
from lbgen.runtime.pod.steps import exabgp_conf
from lbgen.testbed.slices import endpoint, endpoint_slice
from tests.conftest import ROOT

HTTP = ("http", "TCP")


@pytest.fixture(scope="module")
def web() -> ServicePlan:
    plan = compile_file(ROOT / "examples/dualstack.yaml", "examples/dualstack.yaml").plan
    assert plan is not None
    return next(s for s in plan.services if s.name == "web")


def six(name: str, addresses: list[str]) -> dict[str, object]:
    item = endpoint_slice(name, [endpoint(a) for a in addresses], service="web-app")
    item["addressType"] = "IPv6"
    return item


def test_the_pool_takes_the_ipv6_slices_of_a_dual_stack_service_only(web: ServicePlan) -> None:
    slices = [
        endpoint_slice("v4", [endpoint("10.60.2.100")], service="web-app"),
        six("v6", ["fd00:61:0:2::100", "fd00:61:0:1::100", "fe80::1%eth0"]),
    ]
    pools = pools_from_slices(slices, web)
    assert [s.address for s in pools[HTTP]] == [
        IPv4Address("10.60.2.100"),
        IPv6Address("fd00:61:0:1::100"),
        IPv6Address("fd00:61:0:2::100"),
    ]
    ipv4_only = web.model_copy(update={"prefix6": None, "vips6": ()})
    assert [s.address for s in pools_from_slices(slices, ipv4_only)[HTTP]] == [
        IPv4Address("10.60.2.100")
    ]


def test_each_vip_is_served_by_the_backends_of_its_family(web: ServicePlan) -> None:
    pools = {
        HTTP: (
            RealServer(IPv4Address("10.60.2.100"), 8080),
            RealServer(IPv6Address("fd00:61:0:2::100"), 8080),
        )
    }
    found = {
        (str(v.vip), tuple(str(s.address) for s in v.servers)) for v in virtual_servers(web, pools)
    }
    assert found == {
        ("203.0.113.65", ("10.60.2.100",)),
        ("2001:db8:64::80", ("fd00:61:0:2::100",)),
    }
    # an IPv6 VIP with no IPv6 backend yet has no virtual server (nothing to balance to)
    only4 = {HTTP: pools[HTTP][:1]}
    assert [str(v.vip) for v in virtual_servers(web, only4)] == ["203.0.113.65"]


def test_the_kernel_order_is_kept_per_family(web: ServicePlan) -> None:
    a, b = IPv6Address("fd00:61:0:1::100"), IPv6Address("fd00:61:0:2::100")
    four = IPv4Address("10.60.2.100")
    pools = {HTTP: (RealServer(four, 8080), RealServer(a, 8080), RealServer(b, 8080))}
    wanted = wanted_orders(web, pools)
    assert wanted[("TCP", IPv6Address("2001:db8:64::80"), 80)] == ((b, 8080), (a, 8080))
    held = {
        ("TCP", IPv4Address("203.0.113.65"), 80): (((four, 8080), 1),),
        ("TCP", IPv6Address("2001:db8:64::80"), 80): (((a, 8080), 1), ((b, 8080), 1)),
    }
    assert rebuild(web, pools, held) == {HTTP: ((b, 8080),)}


def test_the_datapath_has_an_ipv6_side(web: ServicePlan) -> None:
    routes = local_routes(web)
    assert routes[1] == [
        *("ip", "-6", "route", "replace", "local", "2001:db8:64::/64"),
        *("dev", "lo", "table", "local"),
    ]
    ruleset = nft_ruleset(web)
    assert "table ip6 lbgen {" in ruleset
    assert "ip6 daddr fd00:61::/56 ct original ip6 daddr { 2001:db8:64::80 } masquerade" in ruleset
    assert ("net.ipv6.conf.all.forwarding", "1") in web.pod_sysctls
    ips = [i["ip"] for i in wanted_status(web)["loadBalancer"]["ingress"]]
    assert ips == ["203.0.113.65", "2001:db8:64::80"]


def test_the_pod_announces_its_ipv6_prefix_via_its_nodes_address6(
    web: ServicePlan, tmp_path: Path
) -> None:
    """Its node's address6 comes from the fabric's one nodes.json, not a list in each lb.json."""
    tree = compile_file(ROOT / "examples/dualstack.yaml", "examples/dualstack.yaml").tree
    assert tree is not None
    nodes = tmp_path / "nodes.json"
    nodes.write_text(tree["cluster/fabric/nodes.json"])
    assert "fd00:60::11" not in tree["cluster/services/web/lb.json"]
    config = PodConfig(header="h", source="x", service=web)
    env = {"POD_IP": "10.60.1.11", "NODE_IP": "192.168.60.11", "NODE_NAME": "n1"}
    conf = exabgp_conf(config, env, nodes_path=nodes)
    assert "--route 2001:db8:64::/64 fd00:60::11;" in conf
    with pytest.raises(LbgenError, match=r"no IPv6 address in .*nodes\.json"):
        exabgp_conf(config, {**env, "NODE_NAME": "elsewhere"}, nodes_path=nodes)


def test_readiness_reads_ipv6_virtual_servers_and_wants_them() -> None:
    text = (
        "IP Virtual Server version 1.2.1 (size=4096)\n"
        "TCP  CB007141:0050 mh (mh-port)\n"
        "  -> 0A3C0264:1F90      Masq    1      0          0\n"
        "TCP  [2001:0db8:0064:0000:0000:0000:0000:0080]:0050 mh (mh-port)\n"
        "  -> [fd00:0061:0000:0002:0000:0000:0000:0100]:1F90      Masq    1      0          0\n"
    )
    four = ("TCP", IPv4Address("203.0.113.65"), 80)
    six_vs = ("TCP", IPv6Address("2001:db8:64::80"), 80)
    assert set(read_ipvs(text)) == {four, six_vs}
    seen = Observed(
        read_ipvs(text.replace("[2001:0db8:0064", "[2001:0db8:0065")), (), None, frozenset()
    )
    assert datapath_problems([four, six_vs], seen) == [
        "IPVS has no virtual service for TCP 2001:db8:64::80:80"
    ]


@pytest.mark.parametrize("address", ["::1", "::", "fe80::1", "ff02::1"])
def test_an_ipv6_endpoint_no_backend_can_hold_is_skipped(web: ServicePlan, address: str) -> None:
    pools = pools_from_slices([six("v6", [address, "fd00:61:0:2::100"])], web)
    assert [s.address for s in pools[HTTP]] == [IPv6Address("fd00:61:0:2::100")]


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
