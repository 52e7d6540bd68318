"""`lbgen testbed up|status|check|down`: one call per action, and the report it prints."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from lbgen.plan import Plan
from lbgen.testbed.report import fib_report, reach_report, readiness_report
from lbgen.testbed.run import Testbed


def run_testbed(plan: Plan, tree: dict[str, str], args: argparse.Namespace) -> bool:
    """Carry out one action; False when a router's FIB is not what the live LBs announce, or
    (up) an LB pod is not ready by its own probes within the timeout."""
    work = (args.workdir or Path(".testbed") / plan.fabric).resolve()
    bed = Testbed(plan, tree, work, f"lbt-{plan.fabric[:8]}-", rootfs=args.rootfs, detached=True)
    if args.action == "down":
        start = time.monotonic()
        bed.down()
        sys.stdout.write(f"down in {time.monotonic() - start:.1f} s\n")
        return True
    ready = True
    if args.action == "up":
        start = time.monotonic()
        bed.up()
        bed.wait_converged(args.timeout)
        left = max(args.timeout - (time.monotonic() - start), 5.0)
        problems = bed.wait_ready(left)
        sys.stdout.write(readiness_report(problems))
        ready = not any(problems.values())
    converged = bed.converged()
    sys.stdout.write(fib_report(bed.nexthops(), bed.expected()))
    if args.action == "status":
        sys.stdout.write(
            readiness_report({lb.box.name: bed.lb_problems(lb.box.name) for lb in bed.lbs})
        )
        sys.stdout.write(reach_report({r.name: bed.reach(r.name) for r in bed.layout.routers}))
        return True
    return converged and ready
