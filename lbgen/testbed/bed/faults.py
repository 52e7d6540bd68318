"""The testbed's faults part: what it breaks on purpose (an LB stopped, restarted or replaced,
router-fib stopped, a link cut), each as the kubelet, systemd or a cable would."""

from __future__ import annotations

import signal
import time

from lbgen.contract import EXABGP
from lbgen.errors import LbgenError
from lbgen.testbed.bed.core import Core
from lbgen.testbed.bed.net import Net
from lbgen.testbed.bed.see import See
from lbgen.testbed.bed.workloads import Workloads
from lbgen.testbed.host import netns
from lbgen.testbed.model.daemons import ROUTER_FIB


class Faults:
    def __init__(self, core: Core, net: Net, workloads: Workloads, see: See) -> None:
        self.core = core
        self.net = net
        self.workloads = workloads
        self.see = see

    def stop_lb(self, name: str, sig: signal.Signals = signal.SIGTERM) -> None:
        """Stop an LB pod's exabgp: SIGTERM as the kubelet does, its preStop hook first
        (`lbgen pod withdraw`, run inside the container); any other signal as it comes."""
        lb = self.core.lb(name)
        hook = self.workloads.container_hooks(name, EXABGP).get("preStop")
        if sig == signal.SIGTERM and hook:
            self.workloads.exec_in(name, EXABGP, hook)
        self.core.end([f"{lb.box.netns}-{EXABGP}"], sig)

    def replace_lb(self, name: str, timeout: float = 60) -> None:
        """One step of a rollout with maxSurge 0 and maxUnavailable 1: the LB pod ends
        gracefully (its preStop), and once its drain is over (its keepalived's preStop) its
        replacement starts on the node it freed (the only one its anti-affinity leaves); the
        step ends once that one is ready."""
        self.stop_lb(name)
        time.sleep(self.core.plan.kube.drain_seconds)
        self.workloads.start_lb(name)
        problems = self.see.wait_ready(timeout, only=[name])[name]
        if problems:
            raise LbgenError(f"{name} not ready {timeout:.0f} s after it started: {problems}")

    def restart(self, name: str, container: str, sig: signal.Signals = signal.SIGTERM) -> None:
        """End a container of an LB pod and start it again, as the kubelet restarts one."""
        lb = self.core.lb(name)
        self.core.end([f"{lb.box.netns}-{container}"], sig)
        self.workloads.start_container(lb, container, self.workloads.container_env(container))

    def stop_router_fib(self, router: str, sig: signal.Signals = signal.SIGTERM) -> None:
        """End a router's lbgen router-fib (SIGKILL: it cannot end its lease)."""
        box = next(b for b in self.core.layout.routers if b.name == router)
        self.core.end([f"{box.netns}-{ROUTER_FIB}"], sig)

    def set_lb_link(self, name: str, *, up: bool) -> None:
        """Cut or restore an LB pod's link on its node: no FIN, only the hold time notices."""
        lb = self.core.lb(name)
        netns.set_link(lb.bridge_netns, lb.veth, up=up)

    def set_node_link(self, node: str, *, up: bool) -> None:
        """Cut or restore a node's uplink to the node network (every LB on it goes silent)."""
        netns.set_link(self.core.layout.lan, self.net.lan_link(node), up=up)

    def set_router_link(self, router: str, *, up: bool) -> None:
        """Cut or restore a router's link to the node network (its sessions and routes go)."""
        netns.set_link(self.core.layout.lan, self.net.lan_link(router), up=up)
