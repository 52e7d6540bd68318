"""examples/ipv6.yaml run by the real daemons (issue 13, part 1): an IPv6-only cluster. Every
box and pod has only IPv6 addresses; exabgp in each LB pod peers with a gobgpd and an FRR
reflector over IPv6, they reflect every path to the router over IPv6, and the router's FIB holds
an ECMP route per service over the nodes running its LBs. This kernel has no IPVS: the LB pods
answer on their VIPs with the stand-in; the VM runs the IPVS datapath. examples/ipv6-ebgp.yaml
adds a router in another AS (eBGP over IPv6, GTSM)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from ipaddress import IPv4Address, IPv6Address, ip_address
from pathlib import Path

import pytest

from lbgen.render.exabgp import router_id
from lbgen.testbed.bed import Testbed
from tests.support.rogue import router_paths, vtysh_json
from tests.support.testbeds import running, virtual_server_written
from tests.support.waiting import wait_for

pytestmark = pytest.mark.daemons

NODE = {n: IPv6Address(f"fd00:70::{10 + n}") for n in (1, 2, 3)}


@pytest.fixture(scope="module")
def bed(lb_image: Path) -> Iterator[Testbed]:
    yield from running("ipv6", "lb6", lb_image, timeout=90)


def test_no_box_or_pod_has_an_ipv4_address(bed: Testbed) -> None:
    lay = bed.layout
    boxes = [*lay.routers, *lay.reflectors, *lay.nodes, *(lb.box for lb in lay.lbs), lay.api]
    for box in boxes:
        shown = subprocess.run(
            ["ip", "-n", box.netns, "-4", "-o", "addr", "show", "scope", "global"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert shown == "", (box.name, shown)


def test_each_service_has_one_next_hop_per_node_running_one_of_its_lbs(bed: Testbed) -> None:
    assert bed.see.router_nexthops("gw") == {
        "web/6": set(NODE.values()),
        "dns/6": {NODE[1], NODE[2]},
    }


def test_the_router_peers_with_both_reflectors_over_ipv6(bed: Testbed) -> None:
    summary = vtysh_json(bed, bed.layout.routers[0].netns, "show bgp ipv6 unicast summary json")
    peers = summary["peers"]
    assert set(peers) == {"fd00:70::2", "fd00:70::3"}
    assert {p["state"] for p in peers.values()} == {"Established"}


def test_both_reflectors_send_every_path_with_the_lbs_nodes_as_next_hops(bed: Testbed) -> None:
    # the FIB converges on the first reflector's paths; the other's follow within a second
    wait_for(
        lambda: len(router_paths(bed, "2001:db8:70::/64")) == 6,
        timeout=30,
        what="3 LBs × a gobgpd and an FRR reflector",
    )
    paths = router_paths(bed, "2001:db8:70::/64")
    assert {h["ip"] for p in paths for h in p["nexthops"] if h.get("scope") != "link-local"} == {
        str(a) for a in NODE.values()
    }


def test_each_lb_pod_speaks_from_its_ipv6_address_with_a_router_id_folded_from_it(
    bed: Testbed,
) -> None:
    """The FRR reflector's dynamic neighbours are the LB pods' IPv6 addresses, each with the
    32-bit router-id lbgen hashes from it (BGP identifiers are IPv4-shaped in every family)."""
    netns = next(b.netns for b in bed.layout.reflectors if b.name == "rr-frr")
    neighbors = vtysh_json(bed, netns, "show bgp neighbors json")
    pods = {lb.box.address6: lb for lb in bed.lbs}
    dynamic = {ip_address(k): v for k, v in neighbors.items() if ip_address(k) in pods}
    assert set(dynamic) == set(pods)
    for address, shown in dynamic.items():
        assert shown["bgpState"] == "Established"
        assert isinstance(address, IPv6Address)
        assert IPv4Address(shown["remoteRouterId"]) == router_id(address)


def test_every_lb_pod_is_ready_by_its_own_probes(bed: Testbed) -> None:
    """The exabgp probe reads its IPv6 session from /proc/net/tcp6; the hook serves /readyz on
    the pod's IPv6 address, where the kubelet asks."""
    assert bed.see.wait_ready(60) == {lb.box.name: [] for lb in bed.lbs}


def test_the_node_agent_routes_each_prefix_to_the_lb_pods_ipv6_address(bed: Testbed) -> None:
    for lb in bed.lbs:
        node = next(n for n in bed.layout.nodes if n.name == lb.node)
        shown = subprocess.run(
            ["ip", "-n", node.netns, "-6", "route", "show", "proto", "249"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        prefix = bed.service(lb.service).prefix6
        assert f"{prefix} via {lb.box.address6}" in shown, shown


def test_clients_reach_the_vips_over_several_lbs(bed: Testbed) -> None:
    answers, _ = bed.see.traffic(24)
    assert set(answers) == {"web [2001:db8:70::80]:80", "dns [2001:db8:71::1]:53"}
    for key, got in answers.items():
        service = key.split()[0]
        served = {a.split()[1] for a in got}
        assert len(got) == 24
        assert served <= {f"lb={lb.box.name}" for lb in bed.lbs if lb.service == service}, got
        assert len(served) >= 2, got  # ECMP


def test_the_hook_fills_the_ipv6_pool_from_the_ipv6_slice(bed: Testbed) -> None:
    conf = virtual_server_written(bed, "web@n1", "2001:db8:70::80 80")
    backends6 = [b.box.address6 for b in bed.layout.backends if b.service == "web"]
    assert len(backends6) == 2
    for address in backends6:
        assert f"real_server {address} 8080" in conf
    assert conf.count("virtual_server ") == 1


def test_a_stopped_lb_leaves_the_route_and_returns(bed: Testbed) -> None:
    bed.faults.stop_lb("web@n2")
    try:
        wait_for(
            lambda: bed.see.router_nexthops("gw")["web/6"] == {NODE[1], NODE[3]},
            timeout=30,
            what="n2's path withdrawn",
        )
    finally:
        bed.workloads.start_lb("web@n2")
    wait_for(bed.see.converged, timeout=60, what="n2 back")


@pytest.fixture(scope="module")
def ebgp(lb_image: Path) -> Iterator[Testbed]:
    """examples/ipv6-ebgp.yaml: the router in its own AS, eBGP over IPv6 to FRR reflectors,
    GTSM on those sessions."""
    yield from running("ipv6-ebgp", "lb6e", lb_image, timeout=90)


def test_an_ebgp_router_over_ipv6_installs_the_nodes_not_the_reflectors(ebgp: Testbed) -> None:
    """An IPv6 eBGP session carries the sender's link-local address beside the global next hop;
    unless the router prefers the global one, it would route every flow to a reflector (measured
    before lbgen set `ipv6 next-hop prefer-global`: the FIB held the reflectors' fe80:: hops
    and every request timed out)."""
    nodes = {IPv6Address(f"fd00:72::{10 + n}") for n in (1, 2, 3)}
    assert ebgp.see.router_nexthops("edge") == {"web/6": nodes}
    summary = vtysh_json(ebgp, ebgp.layout.routers[0].netns, "show bgp ipv6 unicast summary json")
    assert {p["remoteAs"] for p in summary["peers"].values()} == {64710}
    assert summary["as"] == 64720
    answers, _ = ebgp.see.traffic(24)
    served = {a.split()[1] for a in answers["web [2001:db8:72::1]:80"]}
    assert served <= {"lb=web@n1", "lb=web@n2", "lb=web@n3"}
    assert len(served) >= 2  # ECMP over the nodes
