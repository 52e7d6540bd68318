"""How fast the router's FIB follows the LBs, against the paper's Fig. 13c (most updates within
6 s, at most 10 s over 20 h), and how evenly ECMP spreads flows.

Run as root: .venv/bin/python -m bench.convergence [--fabric paper|ipv6]
(prints numbers; asserts nothing)
The paper's fabric (or examples/ipv6.yaml, an IPv6-only cluster whose sessions run over IPv6)
with 3/1 s timers, run by the real daemons in network namespaces (the testbed). Each number is
the time from the action to the router's FIB showing it, polled every 10 ms: an LB added,
stopped gracefully (SIGTERM: the session closes), killed with SIGKILL (the kernel closes the
socket), or cut off (its link down: only the hold time notices). Where the router forwards
through lbgen router-fib's resilient groups (the paper's does), an LB counts as in the FIB when
both zebra's route and the group hold it, out when neither does; there a graceful stop
withdraws at once and router-fib pins the LB's flows to it (drainSeconds as the example sets it),
so the number is the FIB's with the pins in place. Without resilientEcmp the LBs withdraw at
once too."""

from __future__ import annotations

import argparse
import io
import random
import shutil
import signal
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from functools import partial
from pathlib import Path

from ruamel.yaml import YAML

from lbgen.compiler import compile_text
from lbgen.testbed.bed import Testbed

ROOT = Path(__file__).resolve().parent.parent
POLL = 0.01
# fabric → (spec, the service whose ECMP spread is measured)
FABRICS = {"paper": ("examples/paper.yaml", "web1"), "ipv6": ("examples/ipv6.yaml", "web")}


def timed(bed: Testbed, action: Callable[[], None], done: Callable[[], bool]) -> float:
    start = time.monotonic()
    action()
    while not done():
        if time.monotonic() - start > 60:
            raise TimeoutError("the FIB did not follow within 60 s")
        time.sleep(POLL)
    return time.monotonic() - start


def _views(bed: Testbed, lb: str) -> Callable[[], list[bool]]:
    """Whether the LB's node is a next hop of its service's route (the IPv6 one in an IPv6-only
    cluster, where the node's address is IPv6) in each table the router forwards by: zebra's,
    and lbgen router-fib's resilient group when the router has one."""
    target = next(x for x in bed.layout.lbs if x.box.name == lb)
    router = bed.plan.routers[0]
    key = target.service if target.node_address.version == 4 else f"{target.service}/6"
    grouped = router.resilient is not None and router.resilient.via == "router-fib"

    def views() -> list[bool]:
        seen = [target.node_address in bed.see.router_nexthops(router.name)[key]]
        if grouped:
            seen.append(target.node_address in bed.see.router_groups(router.name)[key])
        return seen

    return views


def has(bed: Testbed, lb: str) -> Callable[[], bool]:
    views = _views(bed, lb)
    return lambda: all(views())


def lacks(bed: Testbed, lb: str) -> Callable[[], bool]:
    views = _views(bed, lb)
    return lambda: not any(views())


def spread(bed: Testbed, service: str, flows: int) -> Counter[str]:
    """Which LB answered each of `flows` new connections to the service's first VIP."""
    vip = bed.service(service).all_vips[0]
    return Counter(answer.split()[1] for answer in bed.see.ask(str(vip), 80, flows))


def fast_timers(path: Path, resilient: bool = True) -> str:
    """The spec with 3/1 s timers (hold time / keepalive); without resilientEcmp on its routers
    when `resilient` is false (the same fabric on zebra's own routes, to compare)."""
    yaml = YAML()
    yaml.preserve_quotes = True  # an IPv6 address in a flow mapping stays quoted
    data = yaml.load(path.read_text())
    data["spec"].setdefault("bgp", {}).update({"holdTime": 3, "keepalive": 1})
    if not resilient:
        for router in data["spec"]["routers"]:
            router.pop("resilientEcmp", None)
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fabric", choices=sorted(FABRICS), default="paper")
    parser.add_argument(
        "--hash-threshold", action="store_true", help="the routers without resilientEcmp"
    )
    args = parser.parse_args()
    spec, measured = FABRICS[args.fabric]
    result = compile_text(fast_timers(ROOT / spec, not args.hash_threshold), spec)
    assert result.plan is not None
    assert result.tree is not None
    work = Path(tempfile.mkdtemp(prefix="lbgen-bench-"))
    bed = Testbed(result.plan, result.tree, work, "lbtb-")
    rng = random.Random(20)
    samples: dict[str, list[float]] = {k: [] for k in ("add", "graceful", "kill -9", "link cut")}
    try:
        bed.up()
        while not bed.see.converged():
            time.sleep(POLL)
        lbs = [lb.box.name for lb in bed.layout.lbs]
        running = set(lbs)
        for _ in range(3):  # silent failures first: each costs a hold time
            lb = rng.choice(sorted(running))
            samples["link cut"].append(
                timed(bed, partial(bed.faults.set_lb_link, lb, up=False), lacks(bed, lb))
            )
            bed.faults.set_lb_link(lb, up=True)
            bed.faults.stop_lb(lb, signal.SIGKILL)
            bed.workloads.start_lb(lb)
            while not has(bed, lb)():
                time.sleep(POLL)
        for _ in range(100):  # random add/remove events, as the paper's 20 h run
            lb = rng.choice(lbs)
            if lb in running and len(running) > 1:
                kind = rng.choice(["graceful", "kill -9"])
                sig = signal.SIGTERM if kind == "graceful" else signal.SIGKILL
                samples[kind].append(
                    timed(bed, partial(bed.faults.stop_lb, lb, sig), lacks(bed, lb))
                )
                running.discard(lb)
            elif lb not in running:
                samples["add"].append(timed(bed, partial(bed.workloads.start_lb, lb), has(bed, lb)))
                running.add(lb)
        for lb in sorted(set(lbs) - running):
            bed.workloads.start_lb(lb)
        while not bed.see.converged():
            time.sleep(POLL)
        counts = spread(bed, measured, 3000)
    finally:
        processes = len(bed.processes())
        start = time.monotonic()
        bed.down()
        down = time.monotonic() - start
        shutil.rmtree(work, ignore_errors=True)
    print(f"{spec}: router FIB update after an LB event (s), timers 3/1 s")
    report(samples, measured, counts)
    print(f"testbed down: {down:.1f} s for {processes} processes")


def report(samples: dict[str, list[float]], measured: str, counts: Counter[str]) -> None:
    print(f"{'event':>9} {'n':>4} {'p50':>6} {'p99':>6} {'max':>6}")
    for kind, values in samples.items():
        values.sort()
        p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
        print(
            f"{kind:>9} {len(values):>4} {statistics.median(values):>6.2f} {p99:>6.2f} "
            f"{values[-1]:>6.2f}"
        )
    shares = ", ".join(f"{label.removeprefix('lb=')} {n}" for label, n in sorted(counts.items()))
    ratio = max(counts.values()) / min(counts.values())
    lbs = len(counts)
    print(f"\nECMP spread of 3000 flows to {measured} over its {lbs} LBs: {shares} ", end="")
    print(f"(max/min {ratio:.2f})")


if __name__ == "__main__":
    main()
