"""What every part of a testbed shares: what it was given, where things go (its layout), and
what it started (by PID, in the work folder's state.json), in namespaces named with one prefix.
The parts (net, workloads, see, faults) act on this one core; none holds state of its own."""

from __future__ import annotations

import signal
import subprocess
import threading
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path

from lbgen.errors import LbgenError
from lbgen.plan import Plan, ServicePlan
from lbgen.testbed.bed.state import State
from lbgen.testbed.host import netns, processes
from lbgen.testbed.host.containers import PodRunner, ipvs_in_kernel
from lbgen.testbed.model.layout import layout, lb_pod
from lbgen.testbed.model.shapes import Layout, LbPod

# router → service → next hops of the service's prefix in that router's FIB (a dual-stack
# service's IPv6 prefix under "<service>/6")
Fib = dict[str, dict[str, set[IPv4Address | IPv6Address]]]


@dataclass
class Core:
    plan: Plan
    tree: dict[str, str]
    workdir: Path
    prefix: str
    # an image's root filesystem: the LB pods' containers run in it (else on this host)
    rootfs: Path | None = None
    # processes outlive this object (the CLI's `up`): handed to init, kept by PID only
    detached: bool = False
    # routers its owners configure (implementation external): the BIRD config each one's owners
    # wrote (router name → bird.conf), which the testbed runs in its place
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
    # pods start side by side, as a kubelet starts them: one writer of `state` at a time
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def __post_init__(self) -> None:
        self.layout = layout(self.plan, self.prefix)
        self.pods = PodRunner(self.tree, self.workdir, self.rootfs)
        self.datapath = ipvs_in_kernel()
        self.state = State.load(self.workdir / "state.json", self.prefix)

    def save(self) -> None:
        with self.lock:
            self.state.save(self.workdir / "state.json")

    def spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> int:
        """Start a process into the log folder, tracked by `name` (and its PID)."""
        log = self.workdir / "log" / f"{name}.log"
        child = None if self.detached else processes.spawn(argv, log, env)
        pid = processes.spawn_detached(argv, log, env) if child is None else child.pid
        with self.lock:
            if child is not None:
                self.children[pid] = child
            self.state.processes[name] = pid
            self.save()
        return pid

    def end(self, names: list[str], sig: signal.Signals = signal.SIGTERM) -> None:
        """End the tracked processes of these names (those still running)."""
        with self.lock:
            pids = [self.state.processes.pop(n) for n in names if n in self.state.processes]
            self.save()
        processes.end_all(pids, self.children, self._ours, sig)

    def _ours(self, pid: int) -> bool:
        """Every process the testbed starts runs in one of its namespaces."""
        return netns.netns_of(pid) in self.state.namespaces

    def add_netns(self, name: str) -> None:
        netns.add_netns(name)
        with self.lock:
            self.state.namespaces.append(name)
            self.save()

    def remove_netns(self, name: str) -> None:
        netns.delete_netns(name)
        with self.lock:
            self.state.namespaces = [n for n in self.state.namespaces if n != name]
            self.save()

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
