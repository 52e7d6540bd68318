"""LB131–LB132, LB135: resilient ECMP on a router (routers[].resilientEcmp): a table router-fib
may own, settings zebra's own knob takes, and router-fib by its old name."""

from __future__ import annotations

from collections.abc import Iterator

from lbgen.diagnostics import Diagnostic, finding
from lbgen.spec import Fabric

# the kernel's own tables: unspec (0), default (253), main (254), local (255)
KERNEL_TABLES = {253: "default", 254: "main", 255: "local"}
# what FRR's resilient nexthop groups take (`resilient buckets (1-256) idle-timer (1-…)
# unbalanced-timer (1-…)`); zebra's global knob is documented with the same words
ZEBRA_MOST_BUCKETS = 256


def check(fabric: Fabric) -> Iterator[Diagnostic]:
    for index, router in enumerate(fabric.spec.routers):
        resilient = router.resilient_ecmp
        if resilient is None:
            continue
        at = ("spec", "routers", index, "resilientEcmp")
        if resilient.via == "agent":
            yield finding(
                "LB135",
                (*at, "via"),
                "via: agent is the old name of via: router-fib (the node agent is another "
                "program)",
                "write via: router-fib, or leave via out (it is the default)",
            )
        if resilient.by_router_fib and resilient.table in KERNEL_TABLES:
            yield finding(
                "LB131",
                (*at, "table"),
                f"table {resilient.table} is the kernel's {KERNEL_TABLES[resilient.table]} "
                "table: lbgen router-fib would mix its routes with the router's own",
                "give resilientEcmp.table a table of its own (the default is 4242)",
            )
        if resilient.via != "zebra":
            continue
        if resilient.buckets > ZEBRA_MOST_BUCKETS:
            yield finding(
                "LB132",
                (*at, "buckets"),
                f"{resilient.buckets} buckets: zebra's resilient groups take at most "
                f"{ZEBRA_MOST_BUCKETS}",
                f"lower resilientEcmp.buckets to {ZEBRA_MOST_BUCKETS}, or use via: router-fib",
            )
        if resilient.unbalanced_timer == 0:
            yield finding(
                "LB132",
                (*at, "unbalancedTimer"),
                "zebra's knob takes an unbalanced-timer of 1 s or more; 0 (never force a "
                "rebalance) is router-fib's alone",
                "set resilientEcmp.unbalancedTimer (e.g. 86400), or use via: router-fib",
            )
