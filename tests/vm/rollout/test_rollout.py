"""A rollout through real IPVS, measured on demand (`python -m bench.vm_rollout`), not in CI: it
takes 6.5–8.5 min under software emulation, which the CI boot's bound cannot hold beside the
rest of guest/. Collected only in the VM (LBGEN_IN_VM=1), from tests/vm/conftest.py's `bed`."""

from __future__ import annotations

from lbgen.testbed.observe import Churn, unleased_packets
from lbgen.testbed.run import Testbed
from tests.vm.guest.test_ipvs_datapath import Record, _across, lbs_of


def test_a_rollout_of_the_lb_deployment_breaks_no_connection_shorter_than_the_drain(
    bed: Testbed, record: Record
) -> None:
    """A config change rolls web2's LB Deployment (maxSurge 0, maxUnavailable 1): one LB at a
    time withdraws (the router pins its flows to it through its drain), its replacement starts
    once the drain is over and the next goes once that one is ready. Short connections made
    all through it (10 at a time, each living 4 s; the drain is 10 s) all end well; of 60 held
    across each step only the leaving LB's break (they outlive its drain), no survivor's; and
    the router's agent kept its lease all through (zebra's route forwarded nothing)."""
    router = bed.layout.routers[0].netns
    unleased = unleased_packets(router)
    short = Churn(bed.client().box.netns, "10.1.2.1", 80, 10, lifetime=4)
    steps = {}
    for name in lbs_of(bed, "web2"):
        steps[name] = _across(bed, lambda name=name: bed.replace_lb(name, timeout=180), name)
    made = short.finish()
    lapsed = unleased_packets(router) - unleased
    record(
        "connections_across_a_rollout",
        {"short": made, "held_per_step": steps, "unleased_packets": lapsed},
    )
    assert made["made"] >= 20
    assert lapsed == 0
    assert made["broken"] == [], made
    for row in steps.values():
        assert row["survivors_moved_by_ecmp"] == 0, steps
