"""How the testbed runs each daemon (argv), what its stand-in API server serves (both pure),
and what must be there before any of them starts (preflight)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path
from typing import Any

from lbgen.contract import ROUTER_FIB_NICE
from lbgen.plan import Plan, ServicePlan
from lbgen.testbed.host.netns import inside
from lbgen.testbed.model import slices
from lbgen.testbed.model.shapes import BACKEND_PORT, Layout

FRR = Path("/usr/lib/frr")
API_PORT = 6443
GOBGP_API = "127.0.0.1:50051"


@dataclass(frozen=True)
class Daemon:
    """How the testbed runs one daemon of a router or reflector, in the box's folder."""

    program: str
    config: str  # the file it reads, in the box's folder
    argv: Callable[[str, Path], list[str]]  # (namespace, folder) → its command line
    user: str | None = None  # who must own the folder and its config (and read nothing else)
    ready: str | None = None  # a file in the folder that says the next daemon may start


def frr_argv(netns: str, daemon: str, folder: Path, config: str = "frr.conf") -> list[str]:
    """zebra or bgpd on the compiled frr.conf (or another file of the folder), as user frr, with
    a zserv socket and vty folder of its own (several routers on one host)."""
    return inside(
        netns,
        str(FRR / daemon),
        *("-u", "frr", "-g", "frr", "-f", str(folder / config)),
        *("-z", str(folder / "zserv.api"), "--vty_socket", str(folder)),
        *("-i", str(folder / f"{daemon}.pid")),
    )


def bird_argv(netns: str, conf: Path, folder: Path) -> list[str]:
    """BIRD in the foreground on `conf`, with a control socket and pid file of its own."""
    return inside(
        netns,
        "bird",
        *("-f", "-c", str(conf)),
        *("-s", str(folder / "bird.ctl"), "-P", str(folder / "bird.pid")),
    )


ROUTER_FIB = "router-fib"


def router_fib_argv(netns: str, config: Path) -> list[str]:
    """A router's `lbgen router-fib` (its systemd unit's ExecStart and Nice=, in the router's
    namespace)."""
    return inside(
        netns,
        *("nice", "-n", str(ROUTER_FIB_NICE)),
        *(sys.executable, "-m", "lbgen", "router-fib", "--config", str(config)),
    )


def gobgpd_argv(netns: str, conf: Path) -> list[str]:
    return inside(
        netns, "gobgpd", "-t", "yaml", "-f", str(conf), "--api-hosts", GOBGP_API, "-l", "info"
    )


def _frr(daemon: str, ready: str | None = None) -> Daemon:
    return Daemon(daemon, "frr.conf", partial(_frr_in, daemon), user="frr", ready=ready)


def _frr_in(daemon: str, netns: str, folder: Path) -> list[str]:
    return frr_argv(netns, daemon, folder)


# what an implementation's description names in `testbed.daemons`
DAEMONS = {
    "zebra": _frr("zebra", ready="zserv.api"),
    "bgpd": _frr("bgpd"),
    "staticd": _frr("staticd"),
    "bird": Daemon("bird", "bird.conf", lambda ns, f: bird_argv(ns, f / "bird.conf", f)),
    "gobgpd": Daemon("gobgpd", "gobgpd.yaml", lambda ns, f: gobgpd_argv(ns, f / "gobgpd.yaml")),
}


def responder_argv(netns: str, binds: list[str], ports: list[int], label: str) -> list[str]:
    """A backend pod's answerer (lbgen.testbed.standins.backend)."""
    listen = [a for port in ports for a in ("--port", str(port))]
    addresses = [a for bind in binds for a in ("--bind", bind)]
    return inside(
        netns,
        sys.executable,
        "-m",
        "lbgen.testbed.standins.backend",
        *addresses,
        *listen,
        "--label",
        label,
    )


def apiserver_argv(netns: str, listen: str, objects: Path) -> list[str]:
    return inside(
        netns,
        sys.executable,
        "-m",
        "lbgen.testbed.standins.apiserver",
        "--listen",
        listen,
        "--objects",
        str(objects),
    )


def endpoint_slice(
    service: ServicePlan, addresses: Sequence[IPv4Address | IPv6Address], version: int = 4
) -> dict[str, Any]:
    """The backend Service's EndpointSlice of one family in the testbed: `addresses` ready, on
    every target port the LB service names."""
    return slices.endpoint_slice(
        f"{service.backend.service}-testbed{'6' if version == 6 else ''}",
        [slices.endpoint(str(a)) for a in addresses],
        service=service.backend.service,
        namespace=service.backend.namespace,
        port=BACKEND_PORT,
        version=version,
        ports=sorted({(p.target_port, p.protocol) for p in service.ports}),
    )


def api_objects(plan: Plan, lay: Layout) -> dict[str, Any]:
    """Each backend Service's EndpointSlice (its backend pods), and the LoadBalancer Services
    whose status the hooks set."""
    slices = [
        endpoint_slice(
            s, [b.box.address for b in lay.backends if b.service == s.name and b.box.address]
        )
        for s in plan.services
        if s.prefix is not None
    ]
    slices += [
        endpoint_slice(
            s,
            [b.box.address6 for b in lay.backends if b.service == s.name and b.box.address6],
            6,
        )
        for s in plan.services
        if s.prefix6 is not None
    ]
    services = [
        {
            "kind": "Service",
            "apiVersion": "v1",
            "status": {},
            "metadata": {"name": s.name, "namespace": s.namespace},
        }
        for s in plan.services
    ]
    return {"endpointslices": slices, "services": services}
