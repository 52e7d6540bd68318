"""What scale events of web2's LBs do to its long-lived connections through real IPVS, behind a
router that forwards through resilient groups and pins a leaving LB's flows to it for its drain
(lbgen router-fib): each event across 60 held connections, one round in CI and as many as
LBGEN_VM_ROUNDS says on demand (`python -m bench.vm_events` runs three). It leaves web2 on node4
and node5, as it found it."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from typing import Any

from lbgen.testbed.bed import Testbed
from tests.support.waiting import wait_for
from tests.vm.conftest import Record
from tests.vm.guest.paper.across import across, hold, outcome, web2_paths

ADD, KILL, BACK = "add an LB (2 → 3)", "kill one (3 → 2; exabgp SIGKILL)", "start it again (2 → 3)"
WITHIN = "remove one gracefully, connections end within the drain (3 → 2)"
OUTLIVE = "remove one gracefully, connections outlive the drain (3 → 2)"
ROUNDS = int(os.environ.get("LBGEN_VM_ROUNDS", "1"))


def _joining(bed: Testbed, node: str) -> Callable[[], None]:
    """An LB of web2 on `node` starts (a new pod on node6; node5's exabgp again) and is in the
    router's group."""

    def join() -> None:
        if node == "node6":
            bed.workloads.add_lb("web2", node)
        else:
            bed.workloads.start_lb(f"web2@{node}")
        wait_for(lambda: web2_paths(bed) == 3, timeout=180, what="the third path")

    return join


def _kill(bed: Testbed) -> None:
    bed.faults.stop_lb("web2@node5", signal.SIGKILL)
    wait_for(lambda: web2_paths(bed) == 2, timeout=60, what="the path gone")
    time.sleep(1)  # the killed LB's connections are asked after its route went


def _drain(bed: Testbed, leaving: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """An LB stopped gracefully (preStop: it withdraws at once, then SIGTERM; its IPVS serves
    on through the drain), across two sets of 60 connections held from before: the first asked
    3 s into its drain (pinned to it by the router, they end well), the second once the pin is
    over (router-fib looks every 1 s), as its pod's end would be."""
    since = time.monotonic()
    within, outliving = hold(bed), hold(bed)
    bed.faults.stop_lb(leaving)
    wait_for(lambda: web2_paths(bed) == 2, timeout=60, what="the path withdrawn")
    withdrawn = time.monotonic()
    time.sleep(3)
    ended = outcome(bed, within, leaving, since)
    time.sleep(max(0.0, withdrawn + bed.plan.kube.drain_seconds + 2 - time.monotonic()))
    return ended, outcome(bed, outliving, leaving, since)


def _round(bed: Testbed) -> dict[str, dict[str, Any]]:
    """One round of scale events on web2: its LBs on node4 and node5 before and after."""
    rows = {ADD: across(bed, _joining(bed, "node6"), None)}
    rows[KILL] = across(bed, lambda: _kill(bed), "web2@node5")
    rows[BACK] = across(bed, _joining(bed, "node5"), None)
    rows[WITHIN], rows[OUTLIVE] = _drain(bed, "web2@node6")
    bed.workloads.remove_lb("web2@node6")
    return rows


def test_long_lived_connections_across_adding_removing_and_killing_an_lb(
    bed: Testbed, record: Record
) -> None:
    """An LB that joins takes no established flow; one that leaves keeps its own while its
    drain lasts (its exabgp killed, or stopped gracefully) and breaks only those once it is
    over; no survivor's connection moves, in any round."""
    rounds = [_round(bed) for _ in range(ROUNDS)]
    record("connections_across_scale_events", {e: [r[e] for r in rounds] for e in rounds[0]})
    for rows in rounds:
        for event, row in rows.items():
            assert row["survivors_moved_by_ecmp"] == 0, (event, row)
        assert rows[ADD]["broken"] == rows[BACK]["broken"] == rows[WITHIN]["broken"] == 0, rows
        # its announcer killed, its IPVS alive: the router pins its flows to it, so none of
        # them breaks within the drain (a dead datapath would lose its own, and only those)
        assert rows[KILL]["broken"] == 0, rows
