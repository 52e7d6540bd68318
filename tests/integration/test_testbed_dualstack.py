"""examples/dualstack.yaml run by the real daemons (issue 13, part 1): `web` has an IPv6 prefix
beside its IPv4 one, both announced by each LB over the same IPv4 sessions, to a gobgpd and an
FRR reflector, with the node's IPv6 address as the IPv6 next hop; the router's FIB holds one
ECMP route per family over the nodes running its LBs, clients reach both VIPs, and a stopped
LB leaves both routes. This kernel has no IPVS: the LB pods answer on their VIPs (both
families) with the stand-in; the VM runs the IPv4 datapath."""

from __future__ import annotations

from collections.abc import Iterator
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path

import pytest

from lbgen.testbed.bed import Testbed
from tests.support.rogue import router_paths
from tests.support.testbeds import running, virtual_server_written
from tests.support.waiting import wait_for

pytestmark = pytest.mark.daemons

V4 = {n: IPv4Address(f"192.168.60.{10 + n}") for n in (1, 2, 3)}
V6 = {n: IPv6Address(f"fd00:60::{10 + n}") for n in (1, 2, 3)}


@pytest.fixture(scope="module")
def bed(lb_image: Path) -> Iterator[Testbed]:
    yield from running("dualstack", "lbd", lb_image, timeout=90)


def test_each_family_has_one_next_hop_per_node_running_one_of_its_lbs(bed: Testbed) -> None:
    assert bed.see.router_nexthops("gw") == {
        "web": set(V4.values()),
        "web/6": set(V6.values()),
        "dns": {V4[1], V4[2]},
    }


def test_every_lb_pod_is_ready_by_its_own_probes(bed: Testbed) -> None:
    assert bed.see.wait_ready(60) == {lb.box.name: [] for lb in bed.lbs}


def test_both_reflectors_send_every_ipv6_path_with_the_lbs_nodes_as_next_hops(bed: Testbed) -> None:
    paths = router_paths(bed, "2001:db8:64::/64")
    assert len(paths) == 6  # 3 LBs × a gobgpd and an FRR reflector
    assert {h["ip"] for p in paths for h in p["nexthops"] if h.get("scope") != "link-local"} == {
        str(a) for a in V6.values()
    }


def test_clients_reach_the_vips_of_both_families_through_the_router(bed: Testbed) -> None:
    lbs = {"lb=web@n1", "lb=web@n2", "lb=web@n3"}
    for vip in ("203.0.113.65", "2001:db8:64::80"):
        answers = bed.see.ask(vip, 80, 24)
        assert len(answers) == 24
        assert {a.split()[1] for a in answers} <= lbs, answers
        assert len({a.split()[1] for a in answers}) >= 2  # ECMP, per family


def test_the_hook_fills_a_pool_per_family_from_the_slices_of_each(bed: Testbed) -> None:
    conf = virtual_server_written(bed, "web@n1", "2001:db8:64::80 80")
    assert "virtual_server 203.0.113.65 80" in conf
    six = conf[conf.index("virtual_server 2001:db8:64::80 80") :]
    backends6 = [b.box.address6 for b in bed.layout.backends if b.service == "web"]
    assert len(backends6) == 2
    for address in backends6:
        assert f"real_server {address} 8080" in six
    assert "real_server 10." not in six  # no IPv4 backend behind an IPv6 VIP


def test_a_stopped_lb_leaves_the_route_of_each_family_and_returns_to_both(bed: Testbed) -> None:
    bed.faults.stop_lb("web@n2")
    try:
        wait_for(
            lambda: bed.see.router_nexthops("gw")["web/6"] == {V6[1], V6[3]},
            timeout=30,
            what="n2's IPv6 path withdrawn",
        )
        assert bed.see.router_nexthops("gw")["web"] == {V4[1], V4[3]}
    finally:
        bed.workloads.start_lb("web@n2")
    wait_for(bed.see.converged, timeout=60, what="n2 back in both families")
