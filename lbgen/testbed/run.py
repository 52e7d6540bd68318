"""Bring a testbed up and down, and read what it routes. Everything lives in namespaces named
with one prefix; what was started is in the work folder's state.json (testbed/state.py).
Rooms: layout.py (where things go), netns.py (plumbing), daemons.py (argv, API objects),
processes.py (start and end), pods.py (LB pods as the Deployment says), this file (the order)."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path
from typing import Any

from lbgen.contract import (
    AGENT_CONFIG_NAME,
    ANNOUNCE_STATUS,
    BOX_PASSWORDS_NAME,
    EXABGP,
    HOOK,
    HOOK_PORT,
    IPVS_TABLE_ENV,
    KEEPALIVED,
    RUN_DIR,
)
from lbgen.errors import LbgenError
from lbgen.plan import AgentConfig, Plan, ServicePlan
from lbgen.render.k8s import FABRIC_DIR
from lbgen.runtime.agent.routes import SERVICE_LABEL, Allowed
from lbgen.runtime.agent.run import RouteTable
from lbgen.runtime.box.config import with_passwords, write_secret_file
from lbgen.runtime.ipvs import Dest, VirtualKey, read_ipvs
from lbgen.runtime.pod.datapath import local_routes
from lbgen.testbed import daemons, netns, processes, secrets
from lbgen.testbed.layout import (
    BACKEND_PORT,
    Box,
    Client,
    Layout,
    LbPod,
    layout,
    lb_pod,
    url_host,
)
from lbgen.testbed.lbpods import PodRunner, ipvs_in_kernel
from lbgen.testbed.observe import ask, fib_nexthops, reach_commands
from lbgen.testbed.standin import IPVS_NAME
from lbgen.testbed.state import State
from lbgen.verify.sysctl import read_sysctl

# router → service → next hops of the service's prefix in that router's FIB (a dual-stack
# service's IPv6 prefix under "<service>/6")
Fib = dict[str, dict[str, set[IPv4Address | IPv6Address]]]


@dataclass
class Testbed:
    __test__ = False  # not a pytest test class, despite the name

    plan: Plan
    tree: dict[str, str]
    workdir: Path
    prefix: str
    # an image's root filesystem: the LB pods' containers run in it (else on this host)
    rootfs: Path | None = None
    # processes outlive this object (the CLI's `up`): handed to init, kept by PID only
    detached: bool = False
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

    # ---- what was started

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

    # ---- up and down

    def up(self) -> None:
        if self.state.namespaces:
            raise LbgenError(f"a testbed is already up in {self.workdir}")
        daemons.preflight(self.plan, self.workdir)
        self.state = State(self.prefix)
        self._save()
        secrets.lay_passwords(self.plan, self.tree, self.workdir)
        try:
            self._network()
            self._routers()
            self._reflectors()
            self._nodes()
            self._backends()
            self._apiserver()
            for lb in self.lbs:
                self._start_pod(lb)
        except BaseException:
            self.down()
            raise

    def down(self) -> None:
        """End everything the testbed started, then whatever still runs in its namespaces
        (ours by construction), then delete them: a few seconds, whatever the size."""
        self._end(list(self.state.processes))
        for name in self.state.namespaces:
            pids = netns.pids_in(name)
            processes.end_all(pids, {}, lambda _pid: True, signal.SIGKILL, grace=1.0)
        for name in reversed(self.state.namespaces):
            netns.delete_netns(name)
        self.state = State(self.prefix)
        (self.workdir / "state.json").unlink(missing_ok=True)

    # ---- the network

    def _network(self) -> None:
        lay = self.layout
        self._add_netns(lay.lan)
        netns.add_bridge(lay.lan, "br0")
        for index, box in enumerate([*lay.routers, *lay.reflectors, *lay.nodes]):
            self._add_netns(box.netns)
            netns.attach(lay.lan, f"v{index}", box, bridge="br0")
        subnets6 = dict(lay.pod_subnets6)
        subnets = dict(lay.pod_subnets)
        for node in lay.nodes:
            four, six = subnets.get(node.name), subnets6.get(node.name)
            address = f"{four.network_address + 1}/{four.prefixlen}" if four else None
            address6 = f"{six.network_address + 1}/{six.prefixlen}" if six else None
            netns.add_bridge(node.netns, "cni0", address, address6)
        for lb in lay.lbs:
            self._lb_network(lb)
        for client, router in zip(lay.clients, lay.routers, strict=True):
            self._add_netns(client.box.netns)
            side = (
                f"{client.router_side}/{client.box.network.prefixlen}"
                if client.router_side is not None and client.box.network is not None
                else None
            )
            side6 = (
                f"{client.router_side6}/{client.box.network6.prefixlen}"
                if client.router_side6 is not None and client.box.network6 is not None
                else None
            )
            netns.attach(router.netns, "eth1", client.box, outer_address=side, outer_address6=side6)
        self._add_netns(lay.api.netns)
        netns.attach(lay.lan, "vapi", lay.api, bridge="br0")
        for index, backend in enumerate(lay.backends):
            self._add_netns(backend.box.netns)
            netns.attach(backend.bridge_netns, f"b{index}", backend.box, bridge="cni0")

    def add_pod(self, name: str, node: str, address: IPv4Address) -> str:
        """Another pod on a node's pod network (a test's rogue speaker); `down` removes it too."""
        return self._pod(name, node, address).netns

    def _pod(self, name: str, node: str, address: IPv4Address) -> Box:
        subnet = dict(self.layout.pod_subnets)[node]
        gateway = (("default", str(subnet.network_address + 1)),)
        box = Box(name, f"{self.prefix}{name}", address, subnet, gateway)
        self._add_netns(box.netns)
        netns.attach(f"{self.prefix}n-{node}", _link_name(name), box, bridge="cni0")
        return box

    def add_probe(self, name: str, address: IPv4Address) -> str:
        """A test's box on the node network, beside the nodes, with no routes: a route through
        one node (`ip route ... via <node>`) reaches that node's LB pod and no other."""
        box = Box(name, f"{self.prefix}{name}", address, self.plan.node_network, ())
        self._add_netns(box.netns)
        netns.attach(self.layout.lan, _link_name(name), box, bridge="br0")
        return box.netns

    def remove_pod(self, name: str) -> None:
        netns.delete_netns(name)
        self.state.namespaces = [n for n in self.state.namespaces if n != name]
        self._save()

    def _sysctl(self, box_netns: str, file: str) -> None:
        """Apply a compiled sysctl.conf in a namespace; host-only keys cannot be, and are named."""
        settings = {key: value for key, (value, _) in read_sysctl(self.tree[file]).items()}
        skipped = netns.apply_sysctls(box_netns, settings)
        if skipped:
            with (self.workdir / "log" / "sysctl-skipped.txt").open("a") as log:
                log.write(f"{box_netns}: {', '.join(skipped)} (host-only, not settable here)\n")

    # ---- routers, reflectors, nodes

    def _routers(self) -> None:
        for box in self.layout.routers:
            self._frr(box, f"routers/{box.name}")

    def _reflectors(self) -> None:
        by_name = {rr.name: rr for rr in self.plan.reflectors}
        for box in self.layout.reflectors:
            base = f"reflectors/{box.name}"
            if by_name[box.name].implementation == "frr":
                self._frr(box, base)
                continue
            conf = self.workdir / f"{box.netns}.gobgpd.yaml"
            conf.write_text(self.tree[f"{base}/gobgpd.yaml"])
            self._sysctl(box.netns, f"{base}/sysctl.conf")
            self._spawn(box.netns, daemons.gobgpd_argv(box.netns, conf))

    def _frr(self, box: Box, base: str) -> None:
        """zebra and bgpd of a router or reflector, on its frr.conf as `lbgen box-config`
        makes it on the box: the compiled file plus the passwords of its sessions."""
        folder = self.workdir / box.netns
        folder.mkdir(exist_ok=True)
        shutil.chown(folder, "frr", "frr")
        listing = self.tree.get(f"{base}/{BOX_PASSWORDS_NAME}")
        conf = with_passwords(
            self.tree[f"{base}/frr.conf"], listing, base, secrets.box_root(self.workdir, base)
        )
        (folder / "frr.conf").touch(mode=0o640)
        shutil.chown(folder / "frr.conf", "frr", "frr")
        write_secret_file(folder / "frr.conf", conf)
        self._sysctl(box.netns, f"{base}/sysctl.conf")
        self._spawn(f"{box.netns}-zebra", daemons.frr_argv(box.netns, "zebra", folder))
        deadline = time.monotonic() + 10
        while not (folder / "zserv.api").exists():
            if time.monotonic() > deadline:
                raise LbgenError(f"zebra in {box.netns} did not start")
            time.sleep(0.05)
        self._spawn(f"{box.netns}-bgpd", daemons.frr_argv(box.netns, "bgpd", folder))
        if "staticd=yes" in self.tree.get(f"{base}/daemons", "").splitlines():
            # a router's discard routes (its daemons file starts staticd, as FRR's init would)
            self._spawn(f"{box.netns}-staticd", daemons.frr_argv(box.netns, "staticd", folder))

    def _nodes(self) -> None:
        for node in self.layout.nodes:
            self._sysctl(node.netns, f"nodes/{node.name}/sysctl.conf")
        self._node_routes()

    def _node_routes(self) -> None:
        """What the node agent DaemonSet does on each node, for the LB pods running now."""
        pods = {
            lb.box.netns: {
                "metadata": {"name": lb.box.netns, "labels": {SERVICE_LABEL: lb.service}},
                "spec": {"nodeName": lb.node},
                "status": {
                    "phase": "Running",
                    "podIP": str(lb.box.main),
                    "podIPs": [
                        {"ip": str(a)} for a in (lb.box.address, lb.box.address6) if a is not None
                    ],
                },
            }
            for lb in self.lbs
        }
        # what the agent reads: the compiled node-agent.json
        config = AgentConfig.model_validate_json(
            self.tree[f"cluster/{FABRIC_DIR}/{AGENT_CONFIG_NAME}"]
        )
        allowed = Allowed.from_config(config)
        for node in self.layout.nodes:
            RouteTable(allowed, node.netns).reconcile(pods, node.name)

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

    # ---- LB pods

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

    def _lb_network(self, lb: LbPod) -> None:
        self._add_netns(lb.box.netns)
        netns.attach(lb.bridge_netns, lb.veth, lb.box, bridge="cni0")
        for route in local_routes(self.service(lb.service)):
            subprocess.run(netns.inside(lb.box.netns, *route), check=True)

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

    def stop_lb(self, name: str, sig: signal.Signals = signal.SIGTERM) -> None:
        """Stop an LB pod's exabgp: SIGTERM as the kubelet does, its preStop hook first
        (`lbgen pod withdraw`, run inside the container); any other signal as it comes."""
        lb = self.lb(name)
        hook = self.container_hooks(name, EXABGP).get("preStop")
        if sig == signal.SIGTERM and hook:
            self.exec_in(name, EXABGP, hook)
        self._end([f"{lb.box.netns}-{EXABGP}"], sig)

    def restart(self, name: str, container: str, sig: signal.Signals = signal.SIGTERM) -> None:
        """End a container of an LB pod and start it again, as the kubelet restarts one."""
        lb = self.lb(name)
        self._end([f"{lb.box.netns}-{container}"], sig)
        self._container(lb, container, self._container_env(container))

    def ipvs(self, name: str) -> dict[VirtualKey, tuple[tuple[Dest, int], ...]]:
        """An LB pod's IPVS table: each virtual server's real servers and weights, in the
        kernel's list order."""
        shown = subprocess.run(
            netns.inside(self.lb(name).box.netns, "cat", "/proc/net/ip_vs"),
            capture_output=True,
            text=True,
            check=True,
        )
        return read_ipvs(shown.stdout)

    def set_lb_link(self, name: str, *, up: bool) -> None:
        """Cut or restore an LB pod's link on its node: no FIN, only the hold time notices."""
        lb = self.lb(name)
        netns.set_link(lb.bridge_netns, lb.veth, up=up)

    def _lan_link(self, box_name: str) -> str:
        lay = self.layout
        boxes = [b.name for b in (*lay.routers, *lay.reflectors, *lay.nodes)]
        return f"v{boxes.index(box_name)}"

    def set_node_link(self, node: str, *, up: bool) -> None:
        """Cut or restore a node's uplink to the node network (every LB on it goes silent)."""
        netns.set_link(self.layout.lan, self._lan_link(node), up=up)

    def set_router_link(self, router: str, *, up: bool) -> None:
        """Cut or restore a router's link to the node network (its sessions and routes go)."""
        netns.set_link(self.layout.lan, self._lan_link(router), up=up)

    # ---- readiness

    def lb_problems(self, name: str) -> list[str]:
        """Why an LB pod is not ready, by its own readiness probes (lbpods.PodRunner)."""
        return self.pods.problems(self.lb(name), self._container_env(EXABGP))

    def announced(self, name: str) -> dict[str, Any] | None:
        """What an LB pod's announcer last decided (its announce.json), or None before it has."""
        path = self.workdir / self.lb(name).box.netns / "run" / ANNOUNCE_STATUS.name
        try:
            found: dict[str, Any] = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        return found

    def metrics(self, name: str) -> str:
        """An LB pod's /metrics (the hook's port), fetched from inside the pod."""
        lb = self.lb(name)
        url = f"http://{url_host(lb.box.main)}:{HOOK_PORT}/metrics"
        code = (
            "import sys,urllib.request as u\n"
            "sys.stdout.write(u.urlopen(sys.argv[1], timeout=5).read().decode())\n"
        )
        return subprocess.run(
            netns.inside(lb.box.netns, sys.executable, "-c", code, url),
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    def wait_ready(self, timeout: float) -> dict[str, list[str]]:
        """Every LB pod's readiness problems once all are ready, or when time runs out."""
        deadline = time.monotonic() + timeout
        while True:
            found = {lb.box.name: self.lb_problems(lb.box.name) for lb in self.lbs}
            if not any(found.values()) or time.monotonic() >= deadline:
                return found
            time.sleep(0.5)

    # ---- what routes

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
        return {box.name: self.router_nexthops(box.name) for box in self.layout.routers}

    def router_nexthops(self, router: str) -> dict[str, set[IPv4Address | IPv6Address]]:
        """service → the next hops of its IPv4 prefix in the router's FIB; "<service>/6" → of
        its IPv6 prefix."""
        box = next(b for b in self.layout.routers if b.name == router)
        found = {}
        for s in self.plan.services:
            if s.prefix is not None:
                found[s.name] = fib_nexthops(box.netns, s.prefix)
            if s.prefix6 is not None:
                found[f"{s.name}/6"] = fib_nexthops(box.netns, s.prefix6)
        return found

    def expected(self) -> dict[str, set[IPv4Address | IPv6Address]]:
        """service → the nodes of its LB pods that can serve it (exabgp, keepalived and the hook
        running, a backend endpoint listed); "<service>/6" → those nodes' IPv6 addresses."""
        live = self.state.processes
        address6 = {n.name: n.address6 for n in self.plan.nodes}
        found: dict[str, set[IPv4Address | IPv6Address]] = {}
        for s in self.plan.services:
            serving = [
                lb
                for lb in self.lbs
                if lb.service == s.name
                and all(f"{lb.box.netns}-{c}" in live for c in (EXABGP, KEEPALIVED, HOOK))
            ]
            if s.prefix is not None:
                found[s.name] = (
                    set() if (s.name, 4) in self.emptied else {lb.node_address for lb in serving}
                )
            if s.prefix6 is not None:
                found[f"{s.name}/6"] = (
                    set()
                    if (s.name, 6) in self.emptied
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
            for router in self.layout.routers
            for s in self.plan.services
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
        except subprocess.SubprocessError:
            return False
        return bool(answers) and not any(a.startswith("error") for a in answers)

    # ---- clients

    def client(self, router: str | None = None) -> Client:
        chosen = router or self.layout.routers[0].name
        return next(c for c in self.layout.clients if c.router == chosen)

    def reach(self, router: str) -> list[str]:
        """How to reach every VIP from the client behind `router`: one command a VIP and port."""
        return reach_commands(self.plan, self.client(router).box.netns)

    def traffic(self, requests: int = 20) -> tuple[dict[str, list[str]], dict[str, set[str]]]:
        """Per service VIP and TCP port: the answers to `requests` requests from the client
        behind the first router (none when a connection failed), and the service's backends."""
        answers, backends = {}, {}
        for service in self.plan.services:
            names = {b.box.name for b in self.layout.backends if b.service == service.name}
            for vip in service.all_vips:
                for port in (p for p in service.ports if p.protocol == "TCP"):
                    key = f"{service.name} {url_host(vip)}:{port.port}"
                    backends[key] = names
                    try:
                        answers[key] = self.ask(str(vip), port.port, requests)
                    except subprocess.SubprocessError:
                        answers[key] = []
        return answers, backends

    def ask(self, vip: str, port: int, connections: int, router: str | None = None) -> list[str]:
        """What the client behind `router` gets from `connections` new TCP connections."""
        return ask(self.client(router).box.netns, vip, port, connections)


def _link_name(name: str) -> str:
    """A test box's link on its bridge: 15 bytes at most, distinct for distinct names."""
    return f"x{zlib.crc32(name.encode()):08x}"
