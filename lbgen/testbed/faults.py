"""What the testbed breaks on purpose: an LB stopped or restarted, a link cut."""

from __future__ import annotations

import signal
import time

from lbgen.contract import (
    EXABGP,
)
from lbgen.testbed import netns
from lbgen.testbed.daemons import ROUTER_FIB
from lbgen.testbed.hookrig import wait_for
from lbgen.testbed.observing import Observation


class Faults(Observation):
    def stop_lb(self, name: str, sig: signal.Signals = signal.SIGTERM) -> None:
        """Stop an LB pod's exabgp: SIGTERM as the kubelet does, its preStop hook first
        (`lbgen pod withdraw`, run inside the container); any other signal as it comes."""
        lb = self.lb(name)
        hook = self.container_hooks(name, EXABGP).get("preStop")
        if sig == signal.SIGTERM and hook:
            self.exec_in(name, EXABGP, hook)
        self._end([f"{lb.box.netns}-{EXABGP}"], sig)

    def replace_lb(self, name: str, timeout: float = 60) -> None:
        """One step of a rollout with maxSurge 0 and maxUnavailable 1: the LB pod ends
        gracefully (its preStop), and once its drain is over (its keepalived's preStop) its
        replacement starts on the node it freed (the only one its anti-affinity leaves); the
        step ends once that one is ready."""
        self.stop_lb(name)
        time.sleep(self.plan.kube.drain_seconds)
        self.start_lb(name)
        wait_for(lambda: not self.lb_problems(name), timeout=timeout, what=f"{name} ready again")

    def restart(self, name: str, container: str, sig: signal.Signals = signal.SIGTERM) -> None:
        """End a container of an LB pod and start it again, as the kubelet restarts one."""
        lb = self.lb(name)
        self._end([f"{lb.box.netns}-{container}"], sig)
        self._container(lb, container, self._container_env(container))

    def stop_router_fib(self, router: str, sig: signal.Signals = signal.SIGTERM) -> None:
        """End a router's lbgen router-fib (SIGKILL: it cannot end its lease)."""
        box = next(b for b in self.layout.routers if b.name == router)
        self._end([f"{box.netns}-{ROUTER_FIB}"], sig)

    def set_lb_link(self, name: str, *, up: bool) -> None:
        """Cut or restore an LB pod's link on its node: no FIN, only the hold time notices."""
        lb = self.lb(name)
        netns.set_link(lb.bridge_netns, lb.veth, up=up)

    def set_node_link(self, node: str, *, up: bool) -> None:
        """Cut or restore a node's uplink to the node network (every LB on it goes silent)."""
        netns.set_link(self.layout.lan, self._lan_link(node), up=up)

    def set_router_link(self, router: str, *, up: bool) -> None:
        """Cut or restore a router's link to the node network (its sessions and routes go)."""
        netns.set_link(self.layout.lan, self._lan_link(router), up=up)
