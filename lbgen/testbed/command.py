"""`lbgen testbed up|status|check|down`: one call per action, and the report it prints.
`--kernel vm` runs `check` in lbgen's VM (a Debian kernel with IPVS, lbgen.testbed.vm): the
testbed comes up there with every LB pod whole, is checked (routes, readiness, traffic through
IPVS to the backends) and goes down, all in one boot."""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
import time
from pathlib import Path

from lbgen.errors import LbgenError
from lbgen.implementations import of_router
from lbgen.plan import Plan
from lbgen.testbed.bed import Testbed
from lbgen.testbed.report import (
    announce_report,
    fib_report,
    reach_report,
    readiness_report,
    traffic_report,
)

HOST_TIMEOUT, VM_TIMEOUT = 60.0, 300.0


def _external(plan: Plan, given: list[str]) -> dict[str, str]:
    """--external ROUTER=BIRD_CONF, each: the config read, by router name."""
    external = {r.name for r in plan.routers if of_router(r).testbed.owners}
    configs = {}
    for item in given:
        name, _, file = item.partition("=")
        if name not in external or not file:
            raise LbgenError(
                f"--external {item}: want ROUTER=BIRD_CONF with ROUTER one of the spec's "
                f"external routers ({', '.join(sorted(external)) or 'it has none'})"
            )
        try:
            configs[name] = Path(file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise LbgenError(f"{file}: cannot read router {name}'s BIRD config: {error}") from None
    return configs


def run_testbed(plan: Plan, tree: dict[str, str], args: argparse.Namespace) -> bool:
    """Carry out one action; False when a router's FIB is not what the live LBs announce, or
    (up) an LB pod is not ready by its own probes within the timeout, or (with IPVS) traffic to
    a VIP is not answered by the service's backends."""
    if args.kernel == "vm":
        return _in_vm(args)
    timeout = args.timeout or HOST_TIMEOUT
    work = (args.workdir or Path(".testbed") / plan.fabric).resolve()
    bed = Testbed(
        plan,
        tree,
        work,
        f"lbt-{plan.fabric[:8]}-",
        rootfs=args.rootfs,
        detached=True,
        external=_external(plan, args.external),
    )
    if args.action == "down":
        start = time.monotonic()
        bed.down()
        sys.stdout.write(f"down in {time.monotonic() - start:.1f} s\n")
        return True
    ready = True
    if args.action == "up":
        start = time.monotonic()
        bed.up()
        bed.see.wait_converged(timeout)
        left = max(timeout - (time.monotonic() - start), 5.0)
        problems = bed.see.wait_ready(left)
        sys.stdout.write(readiness_report(problems))
        # what a client sees, not only the FIB: every VIP answers before `up` returns
        silent = bed.see.wait_answering(max(timeout - (time.monotonic() - start), 5.0))
        for what in silent:
            sys.stdout.write(f"not answering: {what}\n")
        ready = not any(problems.values()) and not silent
    converged = bed.see.converged()
    sys.stdout.write(fib_report(bed.see.nexthops(), bed.see.expected(), ipvs=bed.datapath))
    forwarded = True
    if bed.datapath:
        text, forwarded = traffic_report(*bed.see.traffic())
        sys.stdout.write(text)
    if args.action == "status":
        sys.stdout.write(
            readiness_report({lb.box.name: bed.see.lb_problems(lb.box.name) for lb in bed.lbs})
        )
        sys.stdout.write(
            announce_report({lb.box.name: bed.see.announced(lb.box.name) for lb in bed.lbs})
        )
        sys.stdout.write(reach_report({r.name: bed.see.reach(r.name) for r in bed.layout.routers}))
        return True
    return converged and ready and forwarded


def _in_vm(args: argparse.Namespace) -> bool:
    """Boot lbgen's VM and run the testbed there: up (and its checks), status, down."""
    from lbgen.testbed import vm  # noqa: PLC0415 -- only this mode boots anything

    if args.action != "check":
        raise LbgenError(
            "a testbed in the VM lives for one boot: use `lbgen testbed check SPEC --kernel vm`"
        )
    spec = args.spec.resolve()
    shares = [*vm.python_shares(), vm.Share(spec.parent)]
    rootfs = ["--rootfs", str(args.rootfs.resolve())] if args.rootfs else []
    if args.rootfs:
        shares.append(vm.Share(args.rootfs.resolve()))
    timeout = args.timeout or VM_TIMEOUT
    lbgen = [sys.executable, "-m", "lbgen", "testbed"]
    work = ["--workdir", "/tmp/lbgen-testbed"]  # noqa: S108 -- the guest's own tmpfs
    up = [*lbgen, "up", str(spec), *work, *rootfs, "--timeout", str(timeout)]
    status = [*lbgen, "status", str(spec), *work, *rootfs]
    down = [*lbgen, "down", str(spec), *work]
    script = f"{shlex.join(up)}; status=$?; {shlex.join(status)}; {shlex.join(down)}; exit $status"
    kernel = vm.prepare()
    with tempfile.TemporaryDirectory(prefix="lbgen-vm-") as folder:
        boot = vm.boot(
            kernel, ["bash", "-c", script], Path(folder), shares=shares, timeout=timeout + 300
        )
    sys.stdout.write(boot.console)
    sys.stdout.write(
        f"VM: kernel {kernel.version}, {boot.seconds:.0f} s, status {boot.returncode}\n"
    )
    return boot.returncode == 0
