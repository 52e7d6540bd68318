"""What the scale-event and rollout tests share: 60 keep-alive connections from the client
behind the router to web2, held across an event and asked again after it, and web2's paths at
the router.

The held connections speak every 30 s, as an application's keep-alive ping does. A resilient
group moves only buckets idle for its idle timer (resilientEcmp.idleTimer, 120 s) to an LB that
joins, so a connection silent for longer may move with its bucket: under software emulation an
event can take over 120 s (a rollout step took 137 s), and then silent connections did move
(12 of the survivor's 33, in one VM run). What the tests hold are active flows."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from lbgen.testbed.bed import Testbed
from lbgen.testbed.clients.asking import Held

WEB2_VIP = "10.1.2.1"
PING_SECONDS = 30  # well within the paper's idleTimer (120 s)


def lbs_of(bed: Testbed, service: str) -> list[str]:
    return [lb.box.name for lb in bed.lbs if lb.service == service]


def hold(bed: Testbed) -> Held:
    """60 connections to web2's VIP, open from now on, each speaking every PING_SECONDS."""
    return Held(bed.see.client().box.netns, WEB2_VIP, 80, 60, every=PING_SECONDS)


def outcome(bed: Testbed, held: Held, removed: str | None, since: float) -> dict[str, Any]:
    """Ask the held connections again: how many broke, how many of those were on the LB that
    went (`removed`: they are lost whatever the router does), how many survivors moved."""
    results = held.finish()
    gone = str(bed.lb(removed).box.address) if removed else None
    broken = [r for r in results if "broken" in r]
    kept = [r for r in results if "broken" not in r]
    # a connection that survives stays on its LB and its backend (there is no other way)
    assert all(
        (r["after"]["at"], r["after"]["peer"]) == (r["before"]["at"], r["before"]["peer"])
        for r in kept
    )
    return {
        "connections": len(results),
        "by_lb_before": Counter(r["before"]["peer"] for r in results),
        "on_removed_lb (minimum broken)": sum(1 for r in results if r["before"]["peer"] == gone),
        "broken": len(broken),
        "survivors_moved_by_ecmp": sum(1 for r in broken if r["before"]["peer"] != gone),
        "seconds": round(time.monotonic() - since, 1),
    }


def across(bed: Testbed, event: Callable[[], None], removed: str | None) -> dict[str, Any]:
    """60 connections held across `event` (removing the LB `removed`, or none), asked after."""
    since = time.monotonic()
    held = hold(bed)
    event()
    return outcome(bed, held, removed, since)


def web2_paths(bed: Testbed) -> int:
    """web2's paths at the router: zebra's route, once the resilient group (lbgen router-fib,
    routers[].resilientEcmp) holds the same; -1 while it does not yet."""
    zebra = bed.see.router_nexthops("router")["web2"]
    return len(zebra) if bed.see.router_groups("router")["web2"] == zebra else -1
