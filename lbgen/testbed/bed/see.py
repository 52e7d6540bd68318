"""The testbed's eyes: the LBs' IPVS tables, probes and announcements, the routers' FIBs against
what the live LBs announce, and what clients get. It changes nothing."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from ipaddress import IPv4Address, IPv6Address
from typing import Any

from lbgen.contract import (
    ANNOUNCE_STATUS,
    EXABGP,
    HOOK,
    HOOK_PORT,
    KEEPALIVED,
)
from lbgen.errors import LbgenError
from lbgen.runtime.ipvs import Dest, VirtualKey, read_ipvs
from lbgen.testbed.bed.core import Core, Fib
from lbgen.testbed.bed.workloads import Workloads
from lbgen.testbed.clients.asking import ask, http, reach_commands
from lbgen.testbed.host import netns
from lbgen.testbed.host.routes import fib_nexthops, forwarding_choices
from lbgen.testbed.model.shapes import Client, url_host

# LB pods probed at once: each probe starts processes in the pod, which wait on each other
PROBED_AT_ONCE = 4


class See:
    def __init__(self, core: Core, workloads: Workloads) -> None:
        self.core = core
        self.workloads = workloads

    def ipvs(self, name: str) -> dict[VirtualKey, tuple[tuple[Dest, int], ...]]:
        """An LB pod's IPVS table: each virtual server's real servers and weights, in the
        kernel's list order."""
        shown = subprocess.run(
            netns.inside(self.core.lb(name).box.netns, "cat", "/proc/net/ip_vs"),
            capture_output=True,
            text=True,
            check=True,
        )
        return read_ipvs(shown.stdout)

    def lb_problems(self, name: str) -> list[str]:
        """Why an LB pod is not ready, by its own readiness probes (lbpods.PodRunner)."""
        return self.core.pods.problems(self.core.lb(name), self.workloads.container_env(EXABGP))

    def announced(self, name: str) -> dict[str, Any] | None:
        """What an LB pod's announcer last decided (its announce.json), or None before it has."""
        path = self.core.workdir / self.core.lb(name).box.netns / "run" / ANNOUNCE_STATUS.name
        try:
            found: dict[str, Any] = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        return found

    def metrics(self, name: str) -> str:
        """An LB pod's /metrics (the hook's port), fetched from inside the pod."""
        lb = self.core.lb(name)
        status, body = http(lb.box.netns, f"http://{url_host(lb.box.main)}:{HOOK_PORT}/metrics")
        if status != 200:
            raise LbgenError(f"{name}'s /metrics: {status or 'no answer'} {body[:200]}")
        return body

    def wait_ready(
        self, timeout: float, only: Collection[str] | None = None
    ) -> dict[str, list[str]]:
        """Each LB pod's readiness problems (`only` these; default: all) once each has been
        seen ready, or when time runs out. A pod seen ready is not probed again: each probe
        starts processes in the pod, which a VM under emulation pays dearly for."""
        deadline = time.monotonic() + timeout
        names = list(only) if only is not None else [lb.box.name for lb in self.core.lbs]
        found: dict[str, list[str]] = {name: ["not probed yet"] for name in names}
        while True:
            pending = [n for n in names if found[n]]
            with ThreadPoolExecutor(max_workers=PROBED_AT_ONCE) as pool:
                found.update(zip(pending, pool.map(self.lb_problems, pending), strict=True))
            if not any(found.values()) or time.monotonic() >= deadline:
                return found
            time.sleep(0.5)

    def converged(self) -> bool:
        wanted = self.expected()
        return all(found == wanted for found in self.nexthops().values())

    def wait_converged(self, timeout: float) -> bool:
        """Poll every router's FIB until it holds what the live LBs announce, or time is up."""
        deadline = time.monotonic() + timeout
        while not self.converged():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.2)
        return True

    def nexthops(self) -> Fib:
        """Per router: service → next hops of its prefix in that router's FIB."""
        return {box.name: self.router_nexthops(box.name) for box in self.core.layout.routers}

    def router_nexthops(
        self, router: str, table: str = "main"
    ) -> dict[str, set[IPv4Address | IPv6Address]]:
        """service → the next hops of its IPv4 prefix in the router's FIB (zebra's routes, in
        the main table); "<service>/6" → of its IPv6 prefix."""
        box = next(b for b in self.core.layout.routers if b.name == router)
        found = {}
        for s in self.core.plan.services:
            if s.prefix is not None:
                found[s.name] = fib_nexthops(box.netns, s.prefix, table)
            if s.prefix6 is not None:
                found[f"{s.name}/6"] = fib_nexthops(box.netns, s.prefix6, table)
        return found

    def router_groups(self, router: str) -> dict[str, set[IPv4Address | IPv6Address]]:
        """The same from lbgen router-fib's table: the members of each resilient group."""
        resilient = next(r.resilient for r in self.core.plan.routers if r.name == router)
        assert resilient is not None, f"{router} has no resilientEcmp"
        return self.router_nexthops(router, str(resilient.table))

    def router_choices(self, router: str, vip: str, ports: list[int]) -> dict[int, str]:
        """The next hop the router picks for a TCP flow from each of `ports` of its client:
        through lbgen router-fib's table while its lease marks packets, else zebra's route."""
        box = next(b for b in self.core.layout.routers if b.name == router)
        resilient = next(r.resilient for r in self.core.plan.routers if r.name == router)
        source = str(self.client(router).box.address)
        fwmark = resilient.fwmark if resilient is not None else None
        return forwarding_choices(box.netns, vip, source, ports, iif="eth1", fwmark=fwmark)

    def expected(self) -> dict[str, set[IPv4Address | IPv6Address]]:
        """service → the nodes of its LB pods that can serve it (exabgp, keepalived and the hook
        running, a backend endpoint listed); "<service>/6" → those nodes' IPv6 addresses."""
        live = self.core.state.processes
        address6 = {n.name: n.address6 for n in self.core.plan.nodes}
        found: dict[str, set[IPv4Address | IPv6Address]] = {}
        for s in self.core.plan.services:
            serving = [
                lb
                for lb in self.core.lbs
                if lb.service == s.name
                and all(f"{lb.box.netns}-{c}" in live for c in (EXABGP, KEEPALIVED, HOOK))
            ]
            if s.prefix is not None:
                found[s.name] = (
                    set()
                    if (s.name, 4) in self.core.emptied
                    else {lb.node_address for lb in serving}
                )
            if s.prefix6 is not None:
                found[f"{s.name}/6"] = (
                    set()
                    if (s.name, 6) in self.core.emptied
                    else {a for lb in serving if (a := address6[lb.node])}
                )
        return found

    def wait_answering(self, timeout: float) -> list[str]:
        """Wait until a client behind each router gets an answer from every TCP VIP:port of
        each service that has an LB to serve it; what still does not answer when time is up."""
        deadline = time.monotonic() + timeout
        wanted = self.expected()
        targets = [
            (router.name, vip, port.port)
            for router in self.core.layout.routers
            for s in self.core.plan.services
            for vip in s.all_vips
            if wanted.get(s.name if vip.version == 4 else f"{s.name}/6")
            for port in s.ports
            if port.protocol == "TCP"
        ]
        while True:
            targets = [t for t in targets if not self._answers(*t)]
            if not targets or time.monotonic() >= deadline:
                return [f"{url_host(vip)}:{port} from behind {r}" for r, vip, port in targets]
            time.sleep(0.2)

    def _answers(self, router: str, vip: IPv4Address | IPv6Address, port: int) -> bool:
        try:
            answers = self.ask(str(vip), port, 1, router)
        except (subprocess.SubprocessError, OSError):
            return False
        return bool(answers) and not any(a.startswith("error") for a in answers)

    def client(self, router: str | None = None) -> Client:
        chosen = router or self.core.layout.routers[0].name
        return next(c for c in self.core.layout.clients if c.router == chosen)

    def reach(self, router: str) -> list[str]:
        """How to reach every VIP from the client behind `router`: one command a VIP and port."""
        return reach_commands(self.core.plan, self.client(router).box.netns)

    def traffic(self, requests: int = 20) -> tuple[dict[str, list[str]], dict[str, set[str]]]:
        """Per service VIP and TCP port: the answers to `requests` requests from the client
        behind the first router (none when a connection failed), and the service's backends."""
        answers, backends = {}, {}
        for service in self.core.plan.services:
            names = {b.box.name for b in self.core.layout.backends if b.service == service.name}
            for vip in service.all_vips:
                for port in (p for p in service.ports if p.protocol == "TCP"):
                    key = f"{service.name} {url_host(vip)}:{port.port}"
                    backends[key] = names
                    try:
                        answers[key] = self.ask(str(vip), port.port, requests)
                    except (subprocess.SubprocessError, OSError):
                        answers[key] = []
        return answers, backends

    def ask(self, vip: str, port: int, connections: int, router: str | None = None) -> list[str]:
        """What the client behind `router` gets from `connections` new TCP connections."""
        return ask(self.client(router).box.netns, vip, port, connections)
