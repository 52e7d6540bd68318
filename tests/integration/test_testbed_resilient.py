"""Resilient ECMP on the paper fabric's router (routers[].resilientEcmp: {}), with the real
daemons: FRR's zebra installs its hash-threshold routes and `lbgen router-fib` beside it forwards
each service prefix through a resilient group that follows them.

Two views of the same thing. Real flows: 60 keep-alive connections held across an event, each
asked again after it (this kernel has no IPVS: an LB pod answers itself, so a flow the router
sends to another LB is reset there). The router's own choice for 2,000 5-tuples (`ip route get
… sport S`): a packet's hash from its 5-tuple, as a router hashes traffic from a NIC. A client
in a namespace hashes otherwise (the kernel reuses the socket's random txhash, so a new
connection from the same port may take another path): only held connections show what a flow
keeps."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest

from lbgen.testbed.bed import Testbed
from lbgen.testbed.clients.asking import Churn, Held
from lbgen.testbed.host.routes import lease_alive, marked_packets, moved, unleased_packets
from tests.support.testbeds import running
from tests.support.waiting import wait_for

pytestmark = pytest.mark.daemons

VIP = "10.1.1.1"  # web1: LBs on node4, node5, node6
CONNECTIONS = 60
TUPLES = list(range(20000, 22000))  # the router's choice for 2,000 5-tuples


@pytest.fixture(scope="module")
def testbed(lb_image: Path) -> Iterator[Testbed]:
    yield from running("paper", "lbr", lb_image)


def _a(*hosts: int) -> set[IPv4Address]:
    return {IPv4Address(f"10.0.0.{h}") for h in hosts}


def _router(testbed: Testbed) -> str:
    return testbed.layout.routers[0].netns


def _held(testbed: Testbed) -> Held:
    return Held(testbed.see.client().box.netns, VIP, 80, CONNECTIONS)


def _broken(results: list[dict[str, Any]], gone: str = "") -> int:
    """Connections that were on an LB still there (not `gone`) and broke, or reached another."""
    return sum(
        1
        for r in results
        if r["before"]["lb"] != gone and ("broken" in r or r["after"]["lb"] != r["before"]["lb"])
    )


def _groups_follow_zebra(testbed: Testbed, web1: set[IPv4Address]) -> None:
    def agreed() -> bool:
        groups = testbed.see.router_groups("router")
        return groups["web1"] == web1 and groups == testbed.see.router_nexthops("router")

    wait_for(agreed, timeout=30, what=f"web1's group over {sorted(map(str, web1))}")


def test_each_service_is_forwarded_through_a_group_equal_to_zebras_route(
    testbed: Testbed,
) -> None:
    assert testbed.see.router_groups("router") == {"web1": _a(104, 105, 106), "web2": _a(104, 105)}
    assert testbed.see.router_groups("router") == testbed.see.router_nexthops("router")
    assert lease_alive(_router(testbed))
    counted = marked_packets(_router(testbed))
    answers = testbed.see.ask(VIP, 80, 60)
    assert {a.split()[1] for a in answers} == {"lb=web1@node4", "lb=web1@node5", "lb=web1@node6"}
    # the client's packets were marked, so they took router-fib's table
    assert marked_packets(_router(testbed)) >= counted + 60


def test_an_lb_killed_breaks_only_its_own_connections(testbed: Testbed) -> None:
    held, tuples = _held(testbed), testbed.see.router_choices("router", VIP, TUPLES)
    testbed.faults.stop_lb("web1@node5", signal.SIGKILL)
    _groups_follow_zebra(testbed, _a(104, 106))
    results = held.finish()
    assert moved(tuples, testbed.see.router_choices("router", VIP, TUPLES), gone="10.0.0.105") == 0
    assert _broken(results, gone="web1@node5") == 0
    assert any(r["before"]["lb"] == "web1@node5" for r in results)  # it had some


def test_an_lb_added_breaks_no_connection(testbed: Testbed) -> None:
    held, tuples = _held(testbed), testbed.see.router_choices("router", VIP, TUPLES)
    testbed.workloads.start_lb("web1@node5")
    _groups_follow_zebra(testbed, _a(104, 105, 106))
    # the buckets these flows use are busy (idleTimer 120 s): none moves to the LB back
    assert _broken(held.finish()) == 0
    assert moved(tuples, testbed.see.router_choices("router", VIP, TUPLES)) == 0


def test_the_agent_killed_and_restarted_breaks_no_connection(testbed: Testbed) -> None:
    held, tuples = _held(testbed), testbed.see.router_choices("router", VIP, TUPLES)
    testbed.faults.stop_router_fib("router", signal.SIGKILL)
    testbed.net.start_router_fib("router")  # as systemd's Restart= does, within the lease
    wait_for(lambda: lease_alive(_router(testbed)), timeout=20, what="the lease renewed")
    assert _broken(held.finish()) == 0
    assert moved(tuples, testbed.see.router_choices("router", VIP, TUPLES)) == 0


def test_with_the_agent_dead_an_lb_killed_still_leaves_the_routers_forwarding(
    testbed: Testbed,
) -> None:
    testbed.faults.stop_router_fib("router", signal.SIGKILL)
    wait_for(lambda: not lease_alive(_router(testbed)), timeout=3, what="the lease to run out")
    testbed.faults.stop_lb("web1@node6", signal.SIGKILL)
    wait_for(
        lambda: testbed.see.router_nexthops("router")["web1"] == _a(104, 105),
        timeout=30,
        what="zebra's route without node6",
    )
    # its stale group still names node6, and nothing uses it
    assert testbed.see.router_groups("router")["web1"] == _a(104, 105, 106)
    assert "lb=web1@node6" not in {a.split()[1] for a in testbed.see.ask(VIP, 80, 60)}
    testbed.net.start_router_fib("router")
    _groups_follow_zebra(testbed, _a(104, 105))
    testbed.workloads.start_lb("web1@node6")
    _groups_follow_zebra(testbed, _a(104, 105, 106))


def test_an_lb_stopped_gracefully_gets_no_new_flow_and_keeps_its_own_through_the_drain(
    testbed: Testbed,
) -> None:
    """Its preStop withdraws at once (the router pins: every router here runs router-fib): its
    node leaves web1's group, so new flows go to the others, while the flows it had are pinned
    to it (their conntrack mark, a rule of router-fib's) until the drain ends."""
    held = _held(testbed)
    testbed.faults.stop_lb("web1@node4")
    _groups_follow_zebra(testbed, _a(105, 106))
    assert "lb=web1@node4" not in {a.split()[1] for a in testbed.see.ask(VIP, 80, 30)}
    results = held.finish()  # well within the 10 s drain
    assert _broken(results) == 0
    assert any(r["before"]["lb"] == "web1@node4" for r in results)
    testbed.workloads.start_lb("web1@node4")
    _groups_follow_zebra(testbed, _a(104, 105, 106))


def test_a_pin_ends_with_the_drain(testbed: Testbed) -> None:
    """After drainSeconds a leaving LB's flows are routed by its group again: a connection that
    outlives the drain reaches another LB (in a real pod, IPVS has stopped serving it)."""
    held = _held(testbed)
    testbed.faults.stop_lb("web1@node5")
    _groups_follow_zebra(testbed, _a(104, 106))
    time.sleep(12)  # the 10 s drain, and router-fib's 1 s look for pins that ended
    results = held.finish()
    assert _broken(results, gone="web1@node5") == 0
    on_it = [r for r in results if r["before"]["lb"] == "web1@node5"]
    assert on_it
    assert all("broken" in r or r["after"]["lb"] != "web1@node5" for r in on_it)
    testbed.workloads.start_lb("web1@node5")
    _groups_follow_zebra(testbed, _a(104, 105, 106))


def test_a_rollout_of_the_lb_deployment_costs_only_each_leaving_lbs_long_connections(
    testbed: Testbed,
) -> None:
    """A config change rolls web1's LB Deployment (maxSurge 0, maxUnavailable 1): one LB at a
    time drains and leaves, its replacement starts on the node it freed, the next goes once it
    is ready. Short connections made all through it, each living 4 s (the drain is 10 s), all
    end well; of 60 held across each step, only the leaving LB's may break (they outlive its
    drain: the step waits for its replacement). Router-fib's lease held all through: zebra's
    own route forwarded none of it."""
    router = testbed.layout.routers[0].netns
    unleased = unleased_packets(router)
    short = Churn(testbed.see.client().box.netns, VIP, 80, 20, lifetime=4)
    for name in ("web1@node4", "web1@node5", "web1@node6"):
        held = _held(testbed)
        testbed.faults.replace_lb(name)
        _groups_follow_zebra(testbed, _a(104, 105, 106))
        # no other LB's connection moved, and the replacement took none
        assert _broken(held.finish(), gone=name) == 0
    made = short.finish()
    assert made["made"] >= 100
    assert made["broken"] == []
    assert unleased_packets(router) == unleased
