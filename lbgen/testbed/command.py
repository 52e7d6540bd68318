"""`lbgen testbed up|status|check|down`: one call per action, and the report it prints."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lbgen.plan import Plan
from lbgen.testbed.report import fib_report
from lbgen.testbed.run import Testbed


def run_testbed(plan: Plan, tree: dict[str, str], args: argparse.Namespace) -> bool:
    """Carry out one action; False when the FIB is not what the plan's live LBs announce."""
    work = (args.workdir or Path(".testbed") / plan.fabric).resolve()
    bed = Testbed(plan, tree, work, f"lbt-{plan.fabric[:8]}-", rootfs=args.rootfs)
    if args.action == "down":
        bed.down()
        return True
    if args.action == "up":
        bed.up()
        bed.wait_converged(args.timeout)
    converged = bed.converged()
    sys.stdout.write(fib_report(bed.nexthops(), bed.expected()))
    return converged or args.action == "status"
