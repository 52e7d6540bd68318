"""How the testbed runs each daemon (argv), what its stand-in API server serves (both pure),
and what must be there before any of them starts (preflight)."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Collection, Sequence
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path
from typing import Any

from lbgen.contract import ROUTER_FIB_NICE
from lbgen.errors import LbgenError
from lbgen.plan import Plan, ServicePlan
from lbgen.testbed import slices
from lbgen.testbed.netns import inside, reachable_by_everyone
from lbgen.testbed.shapes import BACKEND_PORT, Layout

FRR = Path("/usr/lib/frr")
API_PORT = 6443
GOBGP_API = "127.0.0.1:50051"


def preflight(plan: Plan, workdir: Path, external: Collection[str] = ()) -> None:
    """What the testbed needs before it starts anything: the daemons, FRR or BIRD routers
    (gobgpd 3.10 panics against FRR 8.4's zebra, osrg/gobgp#2681), a config for each external
    router (`external`: the routers given one), and a work folder user frr can reach."""
    tools = ["gobgpd", "exabgp"]
    tools += ["bird"] if any(r.implementation in ("bird", "external") for r in plan.routers) else []
    for tool in tools:
        if shutil.which(tool) is None:
            raise LbgenError(f"{tool} is not installed")
    if any(r.implementation == "gobgp" for r in plan.routers):
        raise LbgenError(
            "the testbed runs FRR and BIRD routers only: gobgpd 3.10 panics against "
            "FRR 8.4's zebra (osrg/gobgp#2681)"
        )
    for router in plan.routers:
        if router.implementation == "external" and router.name not in external:
            raise LbgenError(
                f"router {router.name} is external: lbgen renders nothing to run on it; give "
                f"the testbed the BIRD config its owners would write from its contract.json "
                f"(--external {router.name}=FILE)"
            )
    (workdir / "log").mkdir(parents=True, exist_ok=True)
    # zebra and bgpd run as user frr and must reach their folders in here
    workdir.chmod(0o755)
    if not reachable_by_everyone(workdir):
        raise LbgenError(
            f"{workdir}: a parent folder is not searchable by others; "
            "FRR's daemons (user frr) could not reach their files"
        )


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
