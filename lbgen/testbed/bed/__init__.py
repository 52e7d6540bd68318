"""A testbed: the compiled fabric run by the real daemons in network namespaces named with one
prefix. One core (core.py: what it was given, where things go, what it started, kept in the work
folder's state.json) and four parts over it, each a collaborator with one job:

    bed.net        namespaces, links, the routers' and reflectors' daemons, the nodes' routes
    bed.workloads  backends, the stand-in API server, LB pods; scale, endpoints, containers
    bed.see        IPVS tables, probes, announcements, FIBs against the plan, clients' answers
    bed.faults     LBs stopped, restarted, replaced; router-fib stopped; links cut

and this file: the order of up and down."""

from __future__ import annotations

import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from lbgen.errors import LbgenError
from lbgen.plan import Plan, ServicePlan
from lbgen.testbed.bed.core import Core
from lbgen.testbed.bed.faults import Faults
from lbgen.testbed.bed.net import Net
from lbgen.testbed.bed.see import See
from lbgen.testbed.bed.state import State
from lbgen.testbed.bed.workloads import Workloads
from lbgen.testbed.host import netns, processes, secrets
from lbgen.testbed.host.preflight import preflight
from lbgen.testbed.model.shapes import Layout, LbPod

# LB pods started, or probed, at once: a 2-core machine gains little beyond
SIDE_BY_SIDE = 4


class Testbed:
    __test__ = False  # not a pytest test class, despite the name

    def __init__(
        self,
        plan: Plan,
        tree: dict[str, str],
        workdir: Path,
        prefix: str,
        *,
        rootfs: Path | None = None,
        detached: bool = False,
        external: dict[str, str] | None = None,
    ) -> None:
        self.core = Core(plan, tree, workdir, prefix, rootfs, detached, external or {})
        self.net = Net(self.core)
        self.workloads = Workloads(self.core, self.net)
        self.see = See(self.core, self.workloads)
        self.faults = Faults(self.core, self.net, self.workloads, self.see)

    # ---- what it was given and where things are (the core's)

    @property
    def plan(self) -> Plan:
        return self.core.plan

    @property
    def tree(self) -> dict[str, str]:
        return self.core.tree

    @property
    def workdir(self) -> Path:
        return self.core.workdir

    @property
    def prefix(self) -> str:
        return self.core.prefix

    @property
    def layout(self) -> Layout:
        return self.core.layout

    @property
    def datapath(self) -> bool:
        """The kernel has IPVS: every LB pod forwards through it (the VM)."""
        return self.core.datapath

    @property
    def lbs(self) -> list[LbPod]:
        return self.core.lbs

    def lb(self, name: str) -> LbPod:
        return self.core.lb(name)

    def service(self, name: str) -> ServicePlan:
        return self.core.service(name)

    def processes(self) -> dict[str, int]:
        return self.core.processes()

    # ---- up and down

    def up(self) -> None:
        core = self.core
        if core.state.namespaces:
            raise LbgenError(f"a testbed is already up in {core.workdir}")
        preflight(core.plan, core.workdir, core.external)
        core.state = State(core.prefix)
        core.save()
        secrets.lay_passwords(core.plan, core.tree, core.workdir)
        try:
            self.net.build()
            self.net.routers()
            self.net.reflectors()
            self.net.nodes()
            self.workloads.start_backends()
            self.workloads.start_api()
            # side by side, as the kubelets start them (each waits on its init container)
            with ThreadPoolExecutor(max_workers=SIDE_BY_SIDE) as pool:
                list(pool.map(self.workloads.start_pod, core.lbs))
        except BaseException:
            self.down()
            raise

    def down(self) -> None:
        """End everything the testbed started, then whatever still runs in its namespaces
        (ours by construction), then delete them: a few seconds, whatever the size."""
        core = self.core
        core.end(list(core.state.processes))
        for name in core.state.namespaces:
            pids = netns.pids_in(name)
            processes.end_all(pids, {}, lambda _pid: True, signal.SIGKILL, grace=1.0)
        for name in reversed(core.state.namespaces):
            netns.delete_netns(name)
        core.state = State(core.prefix)
        (core.workdir / "state.json").unlink(missing_ok=True)
