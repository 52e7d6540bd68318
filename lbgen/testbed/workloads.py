"""What runs on the testbed's nodes: backends, the stand-in API server and its
EndpointSlices, and LB pods as their Deployment says."""

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
from lbgen.testbed import daemons, netns
from lbgen.testbed.layout import lb_pod
from lbgen.testbed.shapes import BACKEND_PORT, Box, LbPod, url_host
from lbgen.testbed.standin import IPVS_NAME
from lbgen.testbed.wiring import Wiring


class Workloads(Wiring):
    def _backends(self) -> None:
        """Backend pods: each answers HTTP on the port its EndpointSlice lists."""
        for backend in self.layout.backends:
            self._start_backend(backend.box)

    def _start_backend(self, box: Box) -> None:
        binds = [str(a) for a in (box.address, box.address6) if a is not None]
        argv = daemons.responder_argv(box.netns, binds, [BACKEND_PORT], box.name)
        self._spawn(f"{box.netns}-backend", argv)

    def replace_backend(self, name: str, argv: list[str]) -> None:
        """Run `argv` in a backend pod instead of its HTTP answerer (a benchmark's nginx): it
        must serve the same port."""
        box = next(b.box for b in self.layout.backends if b.box.name == name)
        self._end([f"{box.netns}-backend"])
        self._spawn(f"{box.netns}-backend", netns.inside(box.netns, *argv))

    def add_backend(self, service: str, node: str, address: IPv4Address) -> None:
        """Another backend pod of `service` on `node`'s pod network, at `address`: running, not
        yet in the service's EndpointSlice (`set_endpoints`)."""
        self._start_backend(self._pod(f"{service}-{str(address).replace('.', '-')}", node, address))

    def set_endpoints(
        self, service: str, addresses: Sequence[IPv4Address | IPv6Address], version: int = 4
    ) -> None:
        """What the backend Service's EndpointSlice of one family lists from now on (all
        ready)."""
        if addresses:
            self.emptied.discard((service, version))
        else:
            self.emptied.add((service, version))
        body = daemons.endpoint_slice(self.service(service), addresses, version)
        name = body["metadata"]["name"]
        url = (
            f"{self.api_url}/apis/discovery.k8s.io/v1/namespaces/"
            f"{body['metadata']['namespace']}/endpointslices/{name}"
        )
        subprocess.run(daemons.put_argv(self.layout.api.netns, url, body), check=True)

    @property
    def api_url(self) -> str:
        return f"http://{url_host(self.layout.api.main)}:{daemons.API_PORT}"

    def set_api(self, *, up: bool) -> None:
        """Stop the stand-in API server, or start it again (with the objects it started with):
        a control-plane outage every LB shares."""
        if up:
            self._apiserver()
        else:
            self._end([f"{self.layout.api.netns}-apiserver"])

    def _apiserver(self) -> None:
        objects = self.workdir / "api-objects.json"
        objects.write_text(json.dumps(daemons.api_objects(self.plan, self.layout)))
        api = self.layout.api
        listen = f"{url_host(api.main)}:{daemons.API_PORT}"
        self._spawn(f"{api.netns}-apiserver", daemons.apiserver_argv(api.netns, listen, objects))

    def _start_pod(self, lb: LbPod) -> None:
        self.pods.lay_out(lb)
        if self.datapath:
            self.pods.initialize(lb)
        self._container(lb, KEEPALIVED)
        self.start_lb(lb.box.name)
        self._container(lb, HOOK, self._container_env(HOOK))

    def _container_env(self, name: str) -> dict[str, str]:
        """What the testbed adds to a container's env: the hook's API server; without IPVS,
        the stand-in's IPVS table for the announcer and the readiness probe."""
        if name == HOOK:
            return {"LBGEN_HOOK_API_SERVER": self.api_url}
        if name == EXABGP and not self.datapath:
            return {IPVS_TABLE_ENV: f"{RUN_DIR}/{IPVS_NAME}"}
        return {}

    def _command(self, lb: LbPod, name: str) -> tuple[str, ...] | None:
        """A container's command where the testbed runs another: without IPVS, keepalived's
        stand-in (lbgen.testbed.standin)."""
        if name != KEEPALIVED or self.datapath:
            return None
        return (
            "python",
            "-m",
            "lbgen.testbed.standin",
            "--run",
            str(RUN_DIR),
            "--label",
            lb.box.name,
        )

    def add_lb(self, service: str, node: str) -> str:
        """Scale out: an LB pod of `service` on a node that has none, started like the others."""
        lb = lb_pod(self.plan, self.prefix, service, node)
        if any(x.box.name == lb.box.name for x in self.lbs):
            raise LbgenError(f"{lb.box.name} already runs")
        self.state.extra.append((service, node))
        self._save()
        self._lb_network(lb)
        self._node_routes()
        self._start_pod(lb)
        return lb.box.name

    def remove_lb(self, name: str) -> None:
        """Scale in: stop an added LB pod, drop its node route, delete its namespace."""
        lb = self.lb(name)
        self._end([k for k in self.state.processes if k.startswith(f"{lb.box.netns}-")])
        self.state.extra = [e for e in self.state.extra if e != (lb.service, lb.node)]
        self.remove_pod(lb.box.netns)
        self._node_routes()

    def _container(self, lb: LbPod, name: str, extra_env: dict[str, str] | None = None) -> None:
        argv, env = self.pods.argv(lb, name, self._command(lb, name), extra_env)
        self._spawn(f"{lb.box.netns}-{name}", argv, env)

    def exec_in(
        self, name: str, container: str, command: tuple[str, ...]
    ) -> subprocess.CompletedProcess[str]:
        """Run `command` inside an LB pod's container, as the kubelet runs probes and hooks."""
        lb = self.lb(name)
        return self.pods.run(lb, container, command, env=self._container_env(container))

    def container_hooks(self, name: str, container: str) -> dict[str, tuple[str, ...]]:
        """An LB pod container's exec probes and preStop hook, as its Deployment says."""
        return self.pods.hooks(self.lb(name), container)

    def start_lb(self, name: str) -> None:
        """Start an LB pod's exabgp container."""
        lb = self.lb(name)
        self._container(lb, EXABGP, self._container_env(EXABGP))
