"""Failover seen by an iBGP and an eBGP router side by side: examples/edge.yaml, whose edge-a
shares the fabric's AS and edge-b has its own. Each number is the time from the action to each
router's FIB showing it (polled every 10 ms), over several rounds on one LB of `dns`: stopped
gracefully (preStop withdraw, then SIGTERM), killed (SIGKILL), cut off (its link down: only the
hold time, 6 s here, notices), and started again.

Run as root: .venv/bin/python -m bench.failover [--rounds N]   (prints numbers; asserts nothing)"""

from __future__ import annotations

import argparse
import shutil
import signal
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from lbgen.compiler import compile_file
from lbgen.testbed.run import Testbed

ROOT = Path(__file__).resolve().parent.parent
POLL = 0.01
LB = "dns@n2"


def until_each(bed: Testbed, action: Callable[[], None], present: bool) -> dict[str, float]:
    """Seconds from `action` until each router's FIB has (or lacks) the LB's node for dns."""
    node = bed.lb(LB).node_address
    start = time.monotonic()
    action()
    seen: dict[str, float] = {}
    while len(seen) < len(bed.layout.routers):
        for router in bed.layout.routers:
            if (
                router.name not in seen
                and (node in bed.router_nexthops(router.name)["dns"]) is present
            ):
                seen[router.name] = time.monotonic() - start
        if time.monotonic() - start > 60:
            raise TimeoutError(f"the FIBs did not follow within 60 s: {seen}")
        time.sleep(POLL)
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    result = compile_file(ROOT / "examples/edge.yaml", "examples/edge.yaml")
    assert result.plan is not None
    assert result.tree is not None
    work = Path(tempfile.mkdtemp(prefix="lbgen-failover-"))
    bed = Testbed(result.plan, result.tree, work, "lbfo-")
    times: dict[tuple[str, str], list[float]] = {}
    try:
        bed.up()
        if not bed.wait_converged(90):
            raise SystemExit("the testbed did not converge")
        kinds: list[tuple[str, Callable[[], None], Callable[[], None]]] = [
            ("graceful stop", lambda: bed.stop_lb(LB), lambda: bed.start_lb(LB)),
            ("kill -9", lambda: bed.stop_lb(LB, signal.SIGKILL), lambda: bed.start_lb(LB)),
            (
                "link cut (hold time)",
                lambda: bed.set_lb_link(LB, up=False),
                lambda: bed.set_lb_link(LB, up=True),
            ),
        ]
        for _ in range(rounds):
            for kind, stop, start in kinds:
                for router, took in until_each(bed, stop, present=False).items():
                    times.setdefault((kind, router), []).append(took)
                for router, took in until_each(bed, start, present=True).items():
                    times.setdefault((f"back after {kind}", router), []).append(took)
    finally:
        bed.down()
        shutil.rmtree(work, ignore_errors=True)
    ibgp, ebgp = (r.name for r in result.plan.routers)
    print(f"{'event':32} {ibgp + ' (iBGP)':>16} {ebgp + ' (eBGP)':>16}   median s, {rounds} rounds")
    for kind in dict.fromkeys(k for k, _ in times):
        a = statistics.median(times[(kind, ibgp)])
        b = statistics.median(times[(kind, ebgp)])
        print(f"{kind:32} {a:16.2f} {b:16.2f}")


if __name__ == "__main__":
    main()
