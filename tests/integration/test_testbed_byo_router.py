"""examples/byo-router.yaml run by the real daemons (issue 23): router `bird` runs BIRD 2 on the
bird.conf lbgen renders (its passwords joined as `lbgen box-config` joins them, GTSM, lbgen
router-fib following BIRD's kernel routes into resilient groups); router `tor` is external, and
runs BIRD on a config written from its contract.json alone (tests/support/contract_bird.py, which
knows nothing of lbgen's renderers); router `frr` is lbgen's default, beside them. Every
router's FIB holds one ECMP route per service and family over the nodes running its LBs, clients
behind each reach every VIP, a stopped LB leaves every one, and what a rogue speaker announces
past its grants reaches none."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from ipaddress import IPv4Address, IPv6Address, ip_network
from pathlib import Path

import pytest

from lbgen.plan import Plan
from lbgen.testbed.bed import Testbed
from lbgen.testbed.host import secrets
from lbgen.testbed.host.routes import fib_nexthops, moved
from tests.conftest import require_tool
from tests.support.contract_bird import contract_to_bird
from tests.support.rogue import bird_routes, rogue_speaker
from tests.support.testbeds import running
from tests.support.waiting import wait_for

pytestmark = pytest.mark.daemons

V4 = {n: IPv4Address(f"192.168.70.{10 + n}") for n in (1, 2, 3)}
V6 = {n: IPv6Address(f"fd00:70::{10 + n}") for n in (1, 2, 3)}
ROUTERS = ("bird", "frr", "tor")
TUPLES = list(range(20000, 22000))  # a router's choice for 2,000 5-tuples


def _tor(plan: Plan, tree: dict[str, str], work: Path) -> str:
    """What tor's owners configure from out/byo-router/routers/tor/contract.json: its password
    files are the reflectors' (laid as `lbgen box-config` reads them there)."""
    secrets.lay_passwords(plan, tree, work)
    root = secrets.box_root(work, f"reflectors/{plan.reflectors[0].name}")
    return contract_to_bird(
        tree["routers/tor/contract.json"],
        lambda file: (root / file.lstrip("/")).read_text(encoding="ascii").strip(),
    )


@pytest.fixture(scope="module")
def bed(lb_image: Path) -> Iterator[Testbed]:
    require_tool("bird")
    yield from running("byo-router", "lbb", lb_image, timeout=90, external={"tor": _tor})


def test_every_router_holds_one_route_per_service_and_family_over_its_lbs_nodes(
    bed: Testbed,
) -> None:
    wanted = {"web": set(V4.values()), "web/6": set(V6.values()), "dns": {V4[1], V4[2]}}
    assert bed.see.nexthops() == dict.fromkeys(ROUTERS, wanted)


def test_bird_routes_come_through_the_authenticated_gtsm_session_with_attributes_reset(
    bed: Testbed,
) -> None:
    shown = bird_routes(bed, "bird", "203.0.113.96/28")
    assert shown.count("BGP.local_pref: 100") == 3, shown  # one path per LB, add-paths
    conf = (bed.workdir / bed.layout.routers[0].netns / "bird.conf").read_text()
    assert conf.count('  password "') == 1  # joined on the box, never in out/


def test_router_fib_forwards_birds_routes_through_resilient_groups(bed: Testbed) -> None:
    wait_for(
        lambda: bed.see.router_groups("bird") == bed.see.router_nexthops("bird"),
        timeout=10,
        what="the groups equal to BIRD's routes",
    )


def test_an_lb_killed_moves_none_of_the_survivors_flows_at_bird_and_a_quarter_at_frr(
    bed: Testbed,
) -> None:
    """The resilient group follows BIRD's route as it follows zebra's; router frr, beside it
    on zebra's hash-threshold route, shows what it saves (and that the count can fail). The
    LB killed is the last of three next hops: a middle one moves nothing even under
    hash-threshold (its neighbours' ranges just grow over it)."""
    vip, gone = "203.0.113.97", V4[3]
    before = {r: bed.see.router_choices(r, vip, TUPLES) for r in ("bird", "frr")}
    bed.faults.stop_lb("web@n3", signal.SIGKILL)
    try:
        wait_for(
            lambda: (
                all(gone not in bed.see.router_nexthops(r)["web"] for r in ("bird", "frr"))
                and gone not in bed.see.router_groups("bird")["web"]
            ),
            timeout=30,
            what="n3 gone from both routers and bird's group",
        )
        after = {r: bed.see.router_choices(r, vip, TUPLES) for r in ("bird", "frr")}
    finally:
        bed.workloads.start_lb("web@n3")
    survivors = sum(1 for hop in before["bird"].values() if hop != str(gone))
    assert moved(before["bird"], after["bird"], gone=str(gone)) == 0
    assert moved(before["frr"], after["frr"], gone=str(gone)) > survivors // 10
    wait_for(bed.see.converged, timeout=60, what="n3 back at every router")


@pytest.mark.parametrize("router", ROUTERS)
def test_clients_behind_each_router_reach_the_vips_of_both_families(
    bed: Testbed, router: str
) -> None:
    lbs = {"lb=web@n1", "lb=web@n2", "lb=web@n3"}
    for vip in ("203.0.113.97", "2001:db8:70::80"):
        answers = bed.see.ask(vip, 80, 24, router)
        assert len(answers) == 24
        assert {a.split()[1] for a in answers} <= lbs, answers
        assert len({a.split()[1] for a in answers}) >= 2  # ECMP, per family


def test_a_stopped_lb_leaves_every_router_in_both_families_and_returns(bed: Testbed) -> None:
    bed.faults.stop_lb("web@n2")
    try:
        wait_for(
            lambda: all(
                bed.see.router_nexthops(r)["web/6"] == {V6[1], V6[3]}
                and bed.see.router_nexthops(r)["web"] == {V4[1], V4[3]}
                for r in ROUTERS
            ),
            timeout=30,
            what="n2's paths withdrawn at every router",
        )
    finally:
        bed.workloads.start_lb("web@n2")
    wait_for(bed.see.converged, timeout=60, what="n2 back at every router")


@pytest.mark.parametrize(
    ("route", "prefix", "hop"),
    [
        ("198.51.100.96/28 next-hop 192.168.70.99", "198.51.100.96/28", "192.168.70.99"),
        ("192.0.2.0/24 next-hop 192.168.70.11", "192.0.2.0/24", "192.168.70.11"),
        ("0.0.0.0/0 next-hop 192.168.70.11", "0.0.0.0/0", "192.168.70.11"),
    ],
    ids=["a-service-prefix-via-a-foreign-hop", "a-prefix-of-no-service", "a-default-route"],
)
def test_what_a_rogue_pod_announces_past_its_grants_reaches_no_router(
    bed: Testbed, tmp_path: Path, route: str, prefix: str, hop: str
) -> None:
    with rogue_speaker(bed, [route], tmp_path, "n1"):
        time.sleep(6)  # two keepalives: time to be learnt, were it accepted
        for box in bed.layout.routers:
            assert ip_network(hop) not in {
                ip_network(h) for h in fib_nexthops(box.netns, ip_network(prefix))
            }, box.name
    assert bed.see.converged()
