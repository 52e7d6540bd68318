"""A rollout of web2's LB Deployment through real IPVS (2–3 min under software emulation): on
demand, `python -m bench.vm_events` (CI runs the host testbed's rollout,
tests/integration/test_testbed_resilient.py). It leaves web2 on node4 and node5, each LB new."""

from __future__ import annotations

import pytest

from lbgen.testbed.bed import Testbed
from lbgen.testbed.clients.asking import Churn
from lbgen.testbed.host.routes import unleased_packets
from tests.vm.conftest import Record
from tests.vm.guest.paper.across import WEB2_VIP, across, lbs_of

pytestmark = pytest.mark.on_demand


def test_a_rollout_of_the_lb_deployment_breaks_no_connection_shorter_than_the_drain(
    bed: Testbed, record: Record
) -> None:
    """A config change rolls web2's LB Deployment (maxSurge 0, maxUnavailable 1): one LB at a
    time withdraws (the router pins its flows to it through its drain), its replacement starts
    once the drain is over and the next goes once that one is ready. Short connections made
    all through it (10 at a time, each living 4 s; the drain is 10 s) all end well; of 60 held
    across each step only the leaving LB's break (they outlive its drain), no survivor's. What
    zebra's route forwarded while router-fib's lease had lapsed is recorded, not asserted here:
    under software emulation router-fib's 200 ms renewals can stall past the 1 s lease (1 packet
    in one of three runs, while its reconciles took 1.4 s instead of 0.2 s); the host testbed's
    rollout asserts none, and what a lapse could cost is what the assertions count."""
    router = bed.layout.routers[0].netns
    unleased = unleased_packets(router)
    short = Churn(bed.see.client().box.netns, WEB2_VIP, 80, 10, lifetime=4)
    steps = {}
    for name in lbs_of(bed, "web2"):
        steps[name] = across(bed, lambda name=name: bed.faults.replace_lb(name, timeout=180), name)
    made = short.finish()
    lapsed = unleased_packets(router) - unleased
    record(
        "connections_across_a_rollout",
        {"short": made, "held_per_step": steps, "unleased_packets": lapsed},
    )
    assert made["made"] >= 20
    assert made["broken"] == [], made
    for row in steps.values():
        assert row["survivors_moved_by_ecmp"] == 0, steps
