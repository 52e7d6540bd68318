"""The testbed's workloads part: what runs on its nodes (backends, the stand-in API server and
its EndpointSlices, LB pods as their Deployment says), started, scaled and changed."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from ipaddress import IPv4Address, IPv6Address

from lbgen.contract import (
    EXABGP,
    HOOK,
    IPVS_TABLE_ENV,
    KEEPALIVED,
    RUN_DIR,
)
from lbgen.errors import LbgenError
from lbgen.testbed.bed.core import Core
from lbgen.testbed.bed.net import Net
from lbgen.testbed.clients.asking import http
from lbgen.testbed.host import netns
from lbgen.testbed.model import daemons
from lbgen.testbed.model.layout import lb_pod
from lbgen.testbed.model.shapes import BACKEND_PORT, Box, LbPod, url_host
from lbgen.testbed.standins.keepalived import IPVS_NAME


class Workloads:
    def __init__(self, core: Core, net: Net) -> None:
        self.core = core
        self.net = net

    def start_backends(self) -> None:
        """Backend pods: each answers HTTP on the port its EndpointSlice lists."""
        for backend in self.core.layout.backends:
            self._start_backend(backend.box)

    def _start_backend(self, box: Box) -> None:
        binds = [str(a) for a in (box.address, box.address6) if a is not None]
        argv = daemons.responder_argv(box.netns, binds, [BACKEND_PORT], box.name)
        self.core.spawn(f"{box.netns}-backend", argv)

    def replace_backend(self, name: str, argv: list[str]) -> None:
        """Run `argv` in a backend pod instead of its HTTP answerer (a benchmark's nginx): it
        must serve the same port."""
        box = next(b.box for b in self.core.layout.backends if b.box.name == name)
        self.core.end([f"{box.netns}-backend"])
        self.core.spawn(f"{box.netns}-backend", netns.inside(box.netns, *argv))

    def add_backend(self, service: str, node: str, address: IPv4Address) -> None:
        """Another backend pod of `service` on `node`'s pod network, at `address`: running, not
        yet in the service's EndpointSlice (`set_endpoints`)."""
        self._start_backend(
            self.net.pod(f"{service}-{str(address).replace('.', '-')}", node, address)
        )

    def set_endpoints(
        self, service: str, addresses: Sequence[IPv4Address | IPv6Address], version: int = 4
    ) -> None:
        """What the backend Service's EndpointSlice of one family lists from now on (all
        ready)."""
        if addresses:
            self.core.emptied.discard((service, version))
        else:
            self.core.emptied.add((service, version))
        body = daemons.endpoint_slice(self.core.service(service), addresses, version)
        name = body["metadata"]["name"]
        url = (
            f"{self.api_url}/apis/discovery.k8s.io/v1/namespaces/"
            f"{body['metadata']['namespace']}/endpointslices/{name}"
        )
        status, said = http(self.core.layout.api.netns, url, put=body)
        if status != 200:
            raise LbgenError(f"PUT {url}: {status or 'no answer'} {said[:200]}")

    @property
    def api_url(self) -> str:
        return f"http://{url_host(self.core.layout.api.main)}:{daemons.API_PORT}"

    def set_api(self, *, up: bool) -> None:
        """Stop the stand-in API server, or start it again (with the objects it started with):
        a control-plane outage every LB shares."""
        if up:
            self.start_api()
        else:
            self.core.end([f"{self.core.layout.api.netns}-apiserver"])

    def start_api(self) -> None:
        objects = self.core.workdir / "api-objects.json"
        objects.write_text(json.dumps(daemons.api_objects(self.core.plan, self.core.layout)))
        api = self.core.layout.api
        listen = f"{url_host(api.main)}:{daemons.API_PORT}"
        self.core.spawn(
            f"{api.netns}-apiserver", daemons.apiserver_argv(api.netns, listen, objects)
        )

    def start_pod(self, lb: LbPod) -> None:
        self.core.pods.lay_out(lb)
        if self.core.datapath:
            self.core.pods.initialize(lb)
        self.start_container(lb, KEEPALIVED)
        self.start_lb(lb.box.name)
        self.start_container(lb, HOOK, self.container_env(HOOK))

    def container_env(self, name: str) -> dict[str, str]:
        """What the testbed adds to a container's env: the hook's API server; without IPVS,
        the stand-in's IPVS table for the announcer and the readiness probe."""
        if name == HOOK:
            return {"LBGEN_HOOK_API_SERVER": self.api_url}
        if name == EXABGP and not self.core.datapath:
            return {IPVS_TABLE_ENV: f"{RUN_DIR}/{IPVS_NAME}"}
        return {}

    def _command(self, lb: LbPod, name: str) -> tuple[str, ...] | None:
        """A container's command where the testbed runs another: without IPVS, keepalived's
        stand-in (lbgen.testbed.standins.keepalived)."""
        if name != KEEPALIVED or self.core.datapath:
            return None
        return (
            "python",
            "-m",
            "lbgen.testbed.standins.keepalived",
            "--run",
            str(RUN_DIR),
            "--label",
            lb.box.name,
        )

    def add_lb(self, service: str, node: str) -> str:
        """Scale out: an LB pod of `service` on a node that has none, started like the others."""
        lb = lb_pod(self.core.plan, self.core.prefix, service, node)
        if any(x.box.name == lb.box.name for x in self.core.lbs):
            raise LbgenError(f"{lb.box.name} already runs")
        self.core.state.extra.append((service, node))
        self.core.save()
        self.net.lb_network(lb)
        self.net.node_routes()
        self.start_pod(lb)
        return lb.box.name

    def remove_lb(self, name: str) -> None:
        """Scale in: stop an added LB pod, drop its node route, delete its namespace."""
        lb = self.core.lb(name)
        self.core.end([k for k in self.core.state.processes if k.startswith(f"{lb.box.netns}-")])
        self.core.state.extra = [e for e in self.core.state.extra if e != (lb.service, lb.node)]
        self.net.remove_pod(lb.box.netns)
        self.net.node_routes()

    def start_container(
        self, lb: LbPod, name: str, extra_env: dict[str, str] | None = None
    ) -> None:
        argv, env = self.core.pods.argv(lb, name, self._command(lb, name), extra_env)
        self.core.spawn(f"{lb.box.netns}-{name}", argv, env)

    def exec_in(
        self, name: str, container: str, command: tuple[str, ...]
    ) -> subprocess.CompletedProcess[str]:
        """Run `command` inside an LB pod's container, as the kubelet runs probes and hooks."""
        lb = self.core.lb(name)
        return self.core.pods.run(lb, container, command, env=self.container_env(container))

    def container_hooks(self, name: str, container: str) -> dict[str, tuple[str, ...]]:
        """An LB pod container's exec probes and preStop hook, as its Deployment says."""
        return self.core.pods.hooks(self.core.lb(name), container)

    def start_lb(self, name: str) -> None:
        """Start an LB pod's exabgp container."""
        lb = self.core.lb(name)
        self.start_container(lb, EXABGP, self.container_env(EXABGP))
