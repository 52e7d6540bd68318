"""Failover seen side by side: on examples/edge.yaml an iBGP and an eBGP router (edge-a shares
the fabric's AS, edge-b has its own); on examples/dualstack.yaml (`--fabric dualstack`) the
IPv4 and the IPv6 route of one dual-stack service at one router (both over IPv4 sessions); on
examples/ipv6.yaml (`--fabric ipv6`) an IPv6-only cluster's route, over IPv6 sessions; on
examples/byo-router.yaml (`--fabric byo-router`) a BIRD router, an FRR one and an external one
(BIRD on its worked example.bird.conf), side by side; edge-a
forwards through lbgen router-fib's resilient groups, whose column is "edge-a group". Each
number is the time from the action to each FIB showing it (polled every 10 ms), over several
rounds on one LB: stopped gracefully (preStop withdraw, then SIGTERM), killed (SIGKILL), cut
off (its link down: only the hold time, 6 s in all, notices), its datapath broken (its
keepalived killed: the announcer withdraws), its backend emptied (every LB of the service
withdraws), and started again (after a withdrawal by the announcer, its hold-down applies).

Run as root: .venv/bin/python -m bench.failover [--fabric edge|dualstack|ipv6|byo-router]
[--rounds N]
(prints numbers; asserts nothing)"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import tempfile
import time
from collections.abc import Callable
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path

from lbgen.compiler import compile_file
from lbgen.contract import KEEPALIVED
from lbgen.testbed.bed import Testbed

ROOT = Path(__file__).resolve().parent.parent
POLL = 0.01
# fabric → (spec, the LB the rounds stop and start)
FABRICS = {
    "edge": ("examples/edge.yaml", "dns@n2"),
    "dualstack": ("examples/dualstack.yaml", "web@n2"),
    "ipv6": ("examples/ipv6.yaml", "web@n2"),
    "byo-router": ("examples/byo-router.yaml", "web@n2"),
}

Column = Callable[[], bool]  # does this FIB hold the LB's node now?


def columns(bed: Testbed, fabric: str, lb: str) -> dict[str, Column]:
    """What is watched: each router (edge), each family at the router (dualstack), the IPv6
    route at the router (ipv6)."""
    pod = bed.lb(lb)

    def at(router: str, key: str, hop: object) -> Column:
        return lambda: hop in bed.see.router_nexthops(router)[key]

    def in_group(router: str, key: str, hop: object) -> Column:
        return lambda: hop in bed.see.router_groups(router)[key]

    if fabric in ("edge", "byo-router"):
        found = {}
        for r in bed.plan.routers:
            found[f"{r.name} ({r.implementation}, {'eBGP' if r.ebgp else 'iBGP'})"] = at(
                r.name, pod.service, pod.node_address
            )
            if r.resilient is not None and r.resilient.via == "router-fib":
                # what its forwarding uses: lbgen router-fib's resilient group
                found[f"{r.name} group"] = in_group(r.name, pod.service, pod.node_address)
        return found
    router = bed.plan.routers[0].name
    node6 = next(n.address6 for n in bed.plan.nodes if n.name == pod.node)
    if fabric == "ipv6":
        return {"IPv6 (sessions)": at(router, f"{pod.service}/6", node6)}
    return {
        "IPv4": at(router, pod.service, pod.node_address),
        "IPv6": at(router, f"{pod.service}/6", node6),
    }


def until_each(
    watched: dict[str, Column], action: Callable[[], None], present: bool
) -> dict[str, float]:
    """Seconds from `action` until each watched FIB has (or lacks) the LB's node."""
    start = time.monotonic()
    action()
    seen: dict[str, float] = {}
    while len(seen) < len(watched):
        for name, holds in watched.items():
            if name not in seen and holds() is present:
                seen[name] = time.monotonic() - start
        if time.monotonic() - start > 60:
            raise TimeoutError(f"the FIBs did not follow within 60 s: {seen}")
        time.sleep(POLL)
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--fabric", choices=sorted(FABRICS), default="edge")
    args = parser.parse_args()
    spec, lb = FABRICS[args.fabric]
    result = compile_file(ROOT / spec, spec)
    assert result.plan is not None
    assert result.tree is not None
    work = Path(tempfile.mkdtemp(prefix="lbgen-failover-"))
    # an external router runs BIRD on its worked example (what lbgen renders for it in BIRD)
    external = {
        r.name: result.tree[f"routers/{r.name}/example.bird.conf"]
        for r in result.plan.routers
        if r.implementation == "external"
    }
    bed = Testbed(result.plan, result.tree, work, "lbfo-", external=external)
    times: dict[tuple[str, str], list[float]] = {}
    try:
        bed.up()
        if not bed.see.wait_converged(90):
            raise SystemExit("the testbed did not converge")
        watched = columns(bed, args.fabric, lb)
        service = bed.lb(lb).service
        mine = [b.box for b in bed.layout.backends if b.service == service]
        backends: dict[int, list[IPv4Address | IPv6Address]] = {
            4: [box.address for box in mine if box.address is not None],
            6: [box.address6 for box in mine if box.address6 is not None],
        }

        def endpoints(full: bool) -> None:
            for version, addresses in backends.items():
                if addresses:
                    bed.workloads.set_endpoints(service, addresses if full else [], version)

        def keepalived_killed() -> None:
            os.kill(bed.processes()[f"{bed.lb(lb).box.netns}-{KEEPALIVED}"], signal.SIGKILL)

        kinds: list[tuple[str, Callable[[], None], Callable[[], None]]] = [
            ("graceful stop", lambda: bed.faults.stop_lb(lb), lambda: bed.workloads.start_lb(lb)),
            (
                "kill -9",
                lambda: bed.faults.stop_lb(lb, signal.SIGKILL),
                lambda: bed.workloads.start_lb(lb),
            ),
            (
                "link cut (hold time)",
                lambda: bed.faults.set_lb_link(lb, up=False),
                lambda: bed.faults.set_lb_link(lb, up=True),
            ),
            (
                "datapath broken (keepalived -9)",
                keepalived_killed,
                lambda: bed.faults.restart(lb, KEEPALIVED),
            ),
            ("endpoints empty", lambda: endpoints(full=False), lambda: endpoints(full=True)),
        ]
        for _ in range(args.rounds):
            for kind, stop, start in kinds:
                for name, took in until_each(watched, stop, present=False).items():
                    times.setdefault((kind, name), []).append(took)
                for name, took in until_each(watched, start, present=True).items():
                    times.setdefault((f"back after {kind}", name), []).append(took)
    finally:
        bed.down()
        shutil.rmtree(work, ignore_errors=True)
    names = list(watched)
    print(
        f"{'event':40} "
        + " ".join(f"{n:>18}" for n in names)
        + f"   p50 / max s, {args.rounds} rounds"
    )
    for kind in dict.fromkeys(k for k, _ in times):
        row = " ".join(
            f"{statistics.median(times[(kind, n)]):9.2f} / {max(times[(kind, n)]):5.2f}"
            for n in names
        )
        print(f"{kind:40} {row}")


if __name__ == "__main__":
    main()
