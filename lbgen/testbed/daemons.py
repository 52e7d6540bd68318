"""How the testbed runs each daemon (argv), what its stand-in API server serves (both pure),
and what must be there before any of them starts (preflight)."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from functools import partial
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path
from typing import Any

from lbgen.contract import ROUTER_FIB_NICE
from lbgen.errors import LbgenError
from lbgen.implementations import of_reflector, of_router
from lbgen.implementations.description import Implementation
from lbgen.plan import Plan, ServicePlan
from lbgen.testbed import slices
from lbgen.testbed.netns import inside, reachable_by_everyone
from lbgen.testbed.shapes import BACKEND_PORT, Layout

FRR = Path("/usr/lib/frr")
API_PORT = 6443
GOBGP_API = "127.0.0.1:50051"


def preflight(plan: Plan, workdir: Path, external: Collection[str] = ()) -> None:
    """What the testbed needs before it starts anything: the daemons each router's and
    reflector's implementation runs (and none the testbed cannot run), a config for each one
    its owners configure (`external`: the routers given one), and a work folder user frr can
    reach."""
    boxes: list[tuple[str, str, Implementation[Any]]] = [
        (f"router {r.name}", r.name, of_router(r)) for r in plan.routers
    ]
    boxes += [(f"reflector {r.name}", r.name, of_reflector(r)) for r in plan.reflectors]
    for what, name, implementation in boxes:
        run = implementation.testbed
        if run.refused:
            raise LbgenError(f"{what} ({implementation.name}): {run.refused}")
        if run.owners and name not in external:
            raise LbgenError(
                f"{what} {implementation.described}: lbgen renders nothing to run on it; give "
                f"the testbed the BIRD config its owners would write from its contract.json "
                f"(--external {name}=FILE)"
            )
    needed = {DAEMONS[d].program for _, _, i in boxes for d in i.testbed.daemons}
    for tool in sorted({"exabgp", *needed}):
        if shutil.which(tool) is None and not (FRR / tool).exists():
            raise LbgenError(f"{tool} is not installed")
    (workdir / "log").mkdir(parents=True, exist_ok=True)
    # zebra and bgpd run as user frr and must reach their folders in here
    workdir.chmod(0o755)
    if not reachable_by_everyone(workdir):
        raise LbgenError(
            f"{workdir}: a parent folder is not searchable by others; "
            "FRR's daemons (user frr) could not reach their files"
        )


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
    """A backend pod's answerer (lbgen.testbed.responder)."""
    listen = [a for port in ports for a in ("--port", str(port))]
    addresses = [a for bind in binds for a in ("--bind", bind)]
    return inside(
        netns,
        sys.executable,
        "-m",
        "lbgen.testbed.responder",
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
        "lbgen.testbed.apiserver",
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


def put_argv(netns: str, url: str, body: dict[str, Any]) -> list[str]:
    """An HTTP PUT of a JSON object from inside a namespace (the API server is in the testbed)."""
    code = (
        "import sys,urllib.request as u\n"
        "r=u.Request(sys.argv[1],data=sys.argv[2].encode(),method='PUT',"
        "headers={'Content-Type':'application/json'})\n"
        "u.urlopen(r,timeout=10).read()\n"
    )
    return inside(netns, sys.executable, "-c", code, url, json.dumps(body))
