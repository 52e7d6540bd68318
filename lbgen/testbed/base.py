"""The testbed's state: what it was given, where things go, and what it started (by PID, in
the work folder's state.json), in namespaces named with one prefix."""

from __future__ import annotations

import signal
import subprocess
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path

from lbgen.errors import LbgenError
from lbgen.plan import Plan, ServicePlan
from lbgen.testbed import netns, processes
from lbgen.testbed.layout import layout, lb_pod
from lbgen.testbed.lbpods import PodRunner, ipvs_in_kernel
from lbgen.testbed.shapes import Layout, LbPod
from lbgen.testbed.state import State

# router → service → next hops of the service's prefix in that router's FIB (a dual-stack
# service's IPv6 prefix under "<service>/6")
Fib = dict[str, dict[str, set[IPv4Address | IPv6Address]]]


@dataclass
class TestbedBase:
    __test__ = False  # not a pytest test class, despite the name

    plan: Plan
    tree: dict[str, str]
    workdir: Path
    prefix: str
    # an image's root filesystem: the LB pods' containers run in it (else on this host)
    rootfs: Path | None = None
    # processes outlive this object (the CLI's `up`): handed to init, kept by PID only
    detached: bool = False
    # routers[].implementation external: the BIRD config each one's owners wrote (router name
    # → bird.conf), which the testbed runs in its place
    external: dict[str, str] = field(default_factory=dict)
    # a kernel with IPVS (the testbed's VM): each LB pod runs all its containers and forwards
    # to the backends; else keepalived cannot run and a stand-in answers on its VIPs
    datapath: bool = field(init=False)
    layout: Layout = field(init=False, repr=False)
    pods: PodRunner = field(init=False, repr=False)
    state: State = field(init=False, repr=False)
    children: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict, repr=False)
    # (service, family) whose backend this testbed set to no endpoint (set_endpoints)
    emptied: set[tuple[str, int]] = field(default_factory=set, repr=False)

    def __post_init__(self) -> None:
        self.layout = layout(self.plan, self.prefix)
        self.pods = PodRunner(self.tree, self.workdir, self.rootfs)
        self.datapath = ipvs_in_kernel()
        self.state = State.load(self.workdir / "state.json", self.prefix)

    def _save(self) -> None:
        self.state.save(self.workdir / "state.json")

    def _spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> int:
        log = self.workdir / "log" / f"{name}.log"
        if self.detached:
            pid = processes.spawn_detached(argv, log, env)
        else:
            process = processes.spawn(argv, log, env)
            self.children[process.pid] = process
            pid = process.pid
        self.state.processes[name] = pid
        self._save()
        return pid

    def _end(self, names: list[str], sig: signal.Signals = signal.SIGTERM) -> None:
        pids = [self.state.processes.pop(n) for n in names if n in self.state.processes]
        self._save()
        processes.end_all(pids, self.children, self._ours, sig)

    def _ours(self, pid: int) -> bool:
        """Every process the testbed starts runs in one of its namespaces."""
        return netns.netns_of(pid) in self.state.namespaces

    def _add_netns(self, name: str) -> None:
        netns.add_netns(name)
        self.state.namespaces.append(name)
        self._save()

    def processes(self) -> dict[str, int]:
        """What the testbed started and still tracks: name → PID."""
        return dict(self.state.processes)

    # ---- what the plan and the scaling so far put where

    def service(self, name: str) -> ServicePlan:
        return next(s for s in self.plan.services if s.name == name)

    @property
    def lbs(self) -> list[LbPod]:
        """The plan's LB pods, and those added by scaling out."""
        extra = [lb_pod(self.plan, self.prefix, s, n) for s, n in self.state.extra]
        return [*self.layout.lbs, *extra]

    def lb(self, name: str) -> LbPod:
        """An LB pod by its name (`<service>@<node>`)."""
        found = next((lb for lb in self.lbs if lb.box.name == name), None)
        if found is None:
            raise LbgenError(f"no LB pod {name} in this testbed")
        return found
