"""Bring a testbed up and down, and read what it routes. Everything lives in namespaces named
with one prefix; processes are tracked by PID in the work folder's state.json."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

from lbgen.agent.run import RouteTable
from lbgen.contract import EXABGP, NON_ROOT_UID
from lbgen.errors import LbgenError
from lbgen.plan import Plan
from lbgen.pod.datapath import local_route
from lbgen.testbed.layout import BACKEND_PORT, Box, Layout, LbPod, layout, lb_pod
from lbgen.testbed.pods import environment, image_script, mount_script, pod_spec
from lbgen.verify.sysctl import read_sysctl

FRR = Path("/usr/lib/frr")
API_PORT = 6443


def _ip(*argv: str, netns: str | None = None) -> None:
    command = ["ip", *(["-n", netns] if netns else []), *argv]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise LbgenError(f"{' '.join(command)}: {done.stderr.strip()}")


def _reachable_by_everyone(folder: Path) -> bool:
    return all(p.stat().st_mode & 0o001 for p in [folder.resolve(), *folder.resolve().parents])


def _in(netns: str, *argv: str) -> list[str]:
    return ["ip", "netns", "exec", netns, *argv]


@dataclass
class Testbed:
    __test__ = False  # not a pytest test class, despite the name

    plan: Plan
    tree: dict[str, str]
    workdir: Path
    prefix: str
    # an image's root filesystem: the LB pods' containers run in it (else on this host)
    rootfs: Path | None = None
    children: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict, repr=False)

    @property
    def layout(self) -> Layout:
        return layout(self.plan, self.prefix)

    # state: what we started, so `down` ends only that
    def _state(self) -> dict[str, Any]:
        path = self.workdir / "state.json"
        if path.exists():
            state: dict[str, Any] = json.loads(path.read_text())
            return state
        return {"prefix": self.prefix, "namespaces": [], "processes": {}}

    def _save(self, state: dict[str, Any]) -> None:
        (self.workdir / "state.json").write_text(json.dumps(state, indent=2, sort_keys=True))

    def _spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> int:
        log = (self.workdir / "log" / f"{name}.log").open("ab")
        process = subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
        log.close()
        self.children[name] = process
        state = self._state()
        state["processes"][name] = process.pid
        self._save(state)
        return process.pid

    def up(self) -> None:
        for tool in ("gobgpd", "exabgp"):
            if shutil.which(tool) is None:
                raise LbgenError(f"{tool} is not installed")
        if any(r.implementation != "frr" for r in self.plan.routers):
            raise LbgenError(
                "the testbed runs FRR routers only: gobgpd 3.10 panics against "
                "FRR 8.4's zebra (osrg/gobgp#2681)"
            )
        (self.workdir / "log").mkdir(parents=True, exist_ok=True)
        # zebra and bgpd run as user frr and must reach their folders in here
        self.workdir.chmod(0o755)
        if self._state()["namespaces"]:
            raise LbgenError(f"a testbed is already up in {self.workdir}")
        (self.workdir / "state.json").unlink(missing_ok=True)
        if not _reachable_by_everyone(self.workdir):
            raise LbgenError(
                f"{self.workdir}: a parent folder is not searchable by others; "
                "FRR's daemons (user frr) could not reach their files"
            )
        self._save(self._state())
        try:
            self._network()
            self._routers()
            self._reflectors()
            self._nodes()
            self._backends()
            self._apiserver()
            for lb in self.lbs:
                self._pod_files(lb)
                self.start_lb(lb.box.name)
                self._container(lb, "hook", {"LBGEN_HOOK_API_SERVER": self.api_url})
        except BaseException:
            self.down()
            raise

    def _add_netns(self, name: str) -> None:
        _ip("netns", "add", name)
        state = self._state()
        state["namespaces"].append(name)
        self._save(state)
        _ip("link", "set", "lo", "up", netns=name)

    def _attach(
        self,
        outer_netns: str,
        outer: str,
        box: Box,
        *,
        bridge: str | None = None,
        outer_address: str | None = None,
    ) -> None:
        """A veth from `outer_netns` (its end named `outer`, on `bridge` or with its own
        address) to the box's eth0, with the box's address and routes."""
        _ip(
            "link",
            "add",
            outer,
            "type",
            "veth",
            "peer",
            "name",
            "eth0",
            "netns",
            box.netns,
            netns=outer_netns,
        )
        if bridge is not None:
            _ip("link", "set", outer, "master", bridge, netns=outer_netns)
        if outer_address is not None:
            _ip("addr", "add", outer_address, "dev", outer, netns=outer_netns)
        _ip("link", "set", outer, "up", netns=outer_netns)
        _ip("addr", "add", f"{box.address}/{box.network.prefixlen}", "dev", "eth0", netns=box.netns)
        _ip("link", "set", "eth0", "up", netns=box.netns)
        for destination, gateway in box.routes:
            _ip("route", "replace", destination, "via", gateway, netns=box.netns)

    def _network(self) -> None:
        lay = self.layout
        self._add_netns(lay.lan)
        _ip("link", "add", "br0", "type", "bridge", netns=lay.lan)
        _ip("link", "set", "br0", "up", netns=lay.lan)
        for index, box in enumerate([*lay.routers, *lay.reflectors, *lay.nodes]):
            self._add_netns(box.netns)
            self._attach(lay.lan, f"v{index}", box, bridge="br0")
        for node, (_, subnet) in zip(lay.nodes, lay.pod_subnets, strict=True):
            _ip("link", "add", "cni0", "type", "bridge", netns=node.netns)
            _ip(
                "addr",
                "add",
                f"{subnet.network_address + 1}/{subnet.prefixlen}",
                "dev",
                "cni0",
                netns=node.netns,
            )
            _ip("link", "set", "cni0", "up", netns=node.netns)
        for lb in lay.lbs:
            self._lb_network(lb)
        self._add_netns(lay.client.netns)
        self._attach(
            lay.routers[0].netns,
            "eth1",
            lay.client,
            outer_address=f"{lay.router_client_side}/{lay.client.network.prefixlen}",
        )
        self._add_netns(lay.api.netns)
        self._attach(lay.lan, "vapi", lay.api, bridge="br0")
        for index, backend in enumerate(lay.backends):
            self._add_netns(backend.box.netns)
            self._attach(backend.bridge_netns, f"b{index}", backend.box, bridge="cni0")

    def add_pod(self, name: str, node: str, address: IPv4Address) -> str:
        """Another pod on a node's pod network (a test's rogue speaker); `down` removes it too."""
        subnet = dict(self.layout.pod_subnets)[node]
        box = Box(
            name,
            f"{self.prefix}{name}",
            address,
            subnet,
            (("default", str(subnet.network_address + 1)),),
        )
        self._add_netns(box.netns)
        self._attach(f"{self.prefix}n-{node}", f"x-{name}"[:15], box, bridge="cni0")
        return box.netns

    def remove_pod(self, netns: str) -> None:
        subprocess.run(["ip", "netns", "del", netns], capture_output=True, check=False)
        state = self._state()
        state["namespaces"] = [n for n in state["namespaces"] if n != netns]
        self._save(state)

    def _sysctl(self, netns: str, file: str) -> None:
        """Apply a compiled sysctl.conf in a namespace; host-only keys cannot be, and are named."""
        skipped = []
        for key, (value, _) in read_sysctl(self.tree[file]).items():
            done = subprocess.run(
                _in(netns, "sysctl", "-qw", f"{key}={value}"),
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0:
                skipped.append(key)
        if skipped:
            (self.workdir / "log" / "sysctl-skipped.txt").open("a").write(
                f"{netns}: {', '.join(skipped)} (host-only, not settable in a namespace)\n"
            )

    def _routers(self) -> None:
        for box in self.layout.routers:
            folder = self.workdir / box.netns
            folder.mkdir(exist_ok=True)
            conf = folder / "frr.conf"
            conf.write_text(self.tree[f"routers/{box.name}/frr.conf"])
            shutil.chown(folder, "frr", "frr")
            self._sysctl(box.netns, f"routers/{box.name}/sysctl.conf")
            common = [
                "-u",
                "frr",
                "-g",
                "frr",
                "-f",
                str(conf),
                "-z",
                str(folder / "zserv.api"),
                "--vty_socket",
                str(folder),
            ]
            self._spawn(
                f"{box.netns}-zebra",
                _in(box.netns, str(FRR / "zebra"), *common, "-i", str(folder / "zebra.pid")),
            )
            deadline = time.monotonic() + 10
            while not (folder / "zserv.api").exists():
                if time.monotonic() > deadline:
                    raise LbgenError(f"zebra in {box.netns} did not start")
                time.sleep(0.05)
            self._spawn(
                f"{box.netns}-bgpd",
                _in(box.netns, str(FRR / "bgpd"), *common, "-i", str(folder / "bgpd.pid")),
            )

    def _reflectors(self) -> None:
        for box in self.layout.reflectors:
            conf = self.workdir / f"{box.netns}.gobgpd.yaml"
            conf.write_text(self.tree[f"reflectors/{box.name}/gobgpd.yaml"])
            self._sysctl(box.netns, f"reflectors/{box.name}/sysctl.conf")
            self._spawn(
                box.netns,
                _in(
                    box.netns,
                    "gobgpd",
                    "-t",
                    "yaml",
                    "-f",
                    str(conf),
                    "--api-hosts",
                    "127.0.0.1:50051",
                    "-l",
                    "info",
                ),
            )

    def _nodes(self) -> None:
        for node in self.layout.nodes:
            self._sysctl(node.netns, f"nodes/{node.name}/sysctl.conf")
        self._node_routes()

    def _node_routes(self) -> None:
        """What the node agent DaemonSet does on each node, for the LB pods running now."""
        pods = {}
        for lb in self.lbs:
            pods[lb.box.netns] = {
                "metadata": {
                    "name": lb.box.netns,
                    "annotations": {"lbgen.io/prefix": str(self._service(lb.service).prefix)},
                },
                "spec": {"nodeName": lb.node},
                "status": {"phase": "Running", "podIP": str(lb.box.address)},
            }
        for node in self.layout.nodes:
            RouteTable(node.netns).reconcile(pods, node.name)

    def _service(self, name: str) -> Any:
        return next(s for s in self.plan.services if s.name == name)

    @property
    def lbs(self) -> list[LbPod]:
        """The plan's LB pods, and those added by scaling out."""
        extra = [lb_pod(self.plan, self.prefix, s, n) for s, n in self._state().get("extra", [])]
        return [*self.layout.lbs, *extra]

    def lb(self, name: str) -> LbPod:
        """An LB pod by its name (`<service>@<node>`)."""
        found = next((lb for lb in self.lbs if lb.box.name == name), None)
        if found is None:
            raise LbgenError(f"no LB pod {name} in this testbed")
        return found

    def _lb_network(self, lb: LbPod) -> None:
        self._add_netns(lb.box.netns)
        self._attach(lb.bridge_netns, lb.veth, lb.box, bridge="cni0")
        subprocess.run(_in(lb.box.netns, *local_route(self._service(lb.service))), check=True)

    def add_lb(self, service: str, node: str) -> str:
        """Scale out: an LB pod of `service` on a node that has none, started like the others."""
        lb = lb_pod(self.plan, self.prefix, service, node)
        if any(x.box.name == lb.box.name for x in self.lbs):
            raise LbgenError(f"{lb.box.name} already runs")
        state = self._state()
        state.setdefault("extra", []).append([service, node])
        self._save(state)
        self._lb_network(lb)
        self._node_routes()
        self._pod_files(lb)
        self.start_lb(lb.box.name)
        self._container(lb, "hook", {"LBGEN_HOOK_API_SERVER": self.api_url})
        return lb.box.name

    def remove_lb(self, name: str) -> None:
        """Scale in: stop an added LB pod, drop its node route, delete its namespace."""
        lb = self.lb(name)
        for key in [k for k in self._state()["processes"] if k.startswith(f"{lb.box.netns}-")]:
            self._end(key, signal.SIGTERM)
        state = self._state()
        state["extra"] = [e for e in state.get("extra", []) if e != [lb.service, lb.node]]
        state["namespaces"] = [n for n in state["namespaces"] if n != lb.box.netns]
        self._save(state)
        subprocess.run(["ip", "netns", "del", lb.box.netns], capture_output=True, check=False)
        self._node_routes()

    @property
    def api_url(self) -> str:
        return f"http://{self.layout.api.address}:{API_PORT}"

    def _backends(self) -> None:
        """Backend pods: each answers on the port its EndpointSlice lists."""
        for backend in self.layout.backends:
            self._spawn(
                f"{backend.box.netns}-backend",
                _in(
                    backend.box.netns,
                    sys.executable,
                    "-m",
                    "lbgen.testbed.responder",
                    "--bind",
                    str(backend.box.address),
                    "--port",
                    str(BACKEND_PORT),
                    "--label",
                    f"backend:{backend.box.name}",
                ),
            )

    def _apiserver(self) -> None:
        """The stand-in API server with each backend Service's EndpointSlice, and the
        LoadBalancer Services whose status the hooks set."""
        slices, services = [], []
        for service in self.plan.services:
            targets = sorted({(p.target_port, p.protocol) for p in service.ports})
            slices.append(
                {
                    "kind": "EndpointSlice",
                    "apiVersion": "discovery.k8s.io/v1",
                    "metadata": {
                        "name": f"{service.backend.service}-testbed",
                        "namespace": service.backend.namespace,
                        "labels": {"kubernetes.io/service-name": service.backend.service},
                    },
                    "addressType": "IPv4",
                    "ports": [
                        {"name": name, "port": BACKEND_PORT, "protocol": protocol}
                        for name, protocol in targets
                    ],
                    "endpoints": [
                        {"addresses": [str(b.box.address)], "conditions": {"ready": True}}
                        for b in self.layout.backends
                        if b.service == service.name
                    ],
                }
            )
            services.append(
                {
                    "kind": "Service",
                    "apiVersion": "v1",
                    "status": {},
                    "metadata": {"name": service.name, "namespace": service.namespace},
                }
            )
        objects = self.workdir / "api-objects.json"
        objects.write_text(json.dumps({"endpointslices": slices, "services": services}))
        api = self.layout.api
        self._spawn(
            f"{api.netns}-apiserver",
            _in(
                api.netns,
                sys.executable,
                "-m",
                "lbgen.testbed.apiserver",
                "--listen",
                f"{api.address}:{API_PORT}",
                "--objects",
                str(objects),
            ),
        )

    def _pod_files(self, lb: LbPod) -> None:
        """The pod's volumes: its ConfigMap's files, and the emptyDir the setup container
        fills with keepalived's starting config."""
        spec = pod_spec(self.tree, lb.service)
        folder = self.workdir / lb.box.netns
        for volume, files in spec.configmaps.items():
            (folder / volume).mkdir(parents=True, exist_ok=True)
            for key, path in files.items():
                (folder / volume / key).write_text(self.tree[path])
        for volume in spec.empty_dirs:
            (folder / volume).mkdir(parents=True, exist_ok=True)
            # the pod's fsGroup: its non-root containers write here too
            os.chown(folder / volume, 0, NON_ROOT_UID)
            (folder / volume).chmod(0o2775)
        config = next(iter(spec.configmaps))
        shutil.copyfile(folder / config / "keepalived.conf", folder / "run" / "keepalived.conf")

    def _container_argv(
        self,
        lb: LbPod,
        name: str,
        command: tuple[str, ...] | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> tuple[list[str], dict[str, str]]:
        """How to run a container of the LB pod (or `command` inside it, as the kubelet runs a
        probe) as its Deployment says: command, downward-API env, volumes at their mountPaths
        (in a private mount namespace), in the pod's netns; in the image's root filesystem as
        the container's user when the testbed has one."""
        spec = pod_spec(self.tree, lb.service)
        container = next(c for c in spec.containers if c.name == name)
        folder = self.workdir / lb.box.netns
        binds = [(str(folder / volume), path) for volume, path in container.mounts]
        facts = {"pod_ip": str(lb.box.address), "node_ip": str(lb.node_address), "node": lb.node}
        env = {**environment(container, facts), **(extra_env or {})}
        run = command or container.command
        if self.rootfs is not None:
            script = image_script(str(self.rootfs), binds, run, env, container.user)
            env = {}
        else:
            script = mount_script(binds, str(folder / "overlay" / name), run)
            # `lbgen` as installed beside the Python running the testbed
            env["PATH"] = f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"
        unshare = ("unshare", "--mount", "--propagation", "private", "sh", "-c", script)
        return _in(lb.box.netns, *unshare), env

    def _container(self, lb: LbPod, name: str, extra_env: dict[str, str] | None = None) -> None:
        argv, env = self._container_argv(lb, name, extra_env=extra_env)
        self._spawn(f"{lb.box.netns}-{name}", argv, env)

    def exec_in(
        self, name: str, container: str, command: tuple[str, ...]
    ) -> subprocess.CompletedProcess[str]:
        """Run `command` inside an LB pod's container, as the kubelet runs probes and hooks."""
        lb = self.lb(name)
        argv, env = self._container_argv(lb, container, command)
        return subprocess.run(
            argv,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def start_lb(self, name: str) -> None:
        """Start an LB pod's exabgp container, and the responder on its VIPs."""
        lb = self.lb(name)
        service = self._service(lb.service)
        self._container(lb, "exabgp")
        if not any(k.startswith(f"{lb.box.netns}-responder") for k in self._state()["processes"]):
            ports = [
                a for p in service.ports if p.protocol == "TCP" for a in ("--port", str(p.port))
            ]
            for vip in service.vips:
                self._spawn(
                    f"{lb.box.netns}-responder-{vip}",
                    _in(
                        lb.box.netns,
                        sys.executable,
                        "-m",
                        "lbgen.testbed.responder",
                        "--bind",
                        str(vip),
                        *ports,
                        "--label",
                        lb.box.name,
                    ),
                )

    def processes(self) -> dict[str, int]:
        """What the testbed started and still tracks: name → PID."""
        return dict(self._state()["processes"])

    def container_hooks(self, name: str, container: str) -> dict[str, tuple[str, ...]]:
        """An LB pod container's exec probes and preStop hook, as its Deployment says."""
        spec = pod_spec(self.tree, self.lb(name).service)
        return dict(next(c for c in spec.containers if c.name == container).probes)

    def stop_lb(self, name: str, sig: signal.Signals = signal.SIGTERM) -> None:
        """Stop an LB pod's exabgp: SIGTERM as the kubelet does, its preStop hook first
        (`lbgen pod withdraw`, run inside the container); any other signal as it comes."""
        lb = self.lb(name)
        hook = self.container_hooks(name, EXABGP).get("preStop")
        if sig == signal.SIGTERM and hook:
            self.exec_in(name, EXABGP, hook)
        self._end(f"{lb.box.netns}-{EXABGP}", sig)

    def set_lb_link(self, name: str, *, up: bool) -> None:
        """Cut or restore an LB pod's link on its node: no FIN, only the hold time notices."""
        lb = self.lb(name)
        _ip("link", "set", lb.veth, "up" if up else "down", netns=lb.bridge_netns)

    def set_node_link(self, node: str, *, up: bool) -> None:
        """Cut or restore a node's uplink to the node network (every LB on it goes silent)."""
        lay = self.layout
        index = [*lay.routers, *lay.reflectors, *lay.nodes].index(
            next(n for n in lay.nodes if n.name == node)
        )
        _ip("link", "set", f"v{index}", "up" if up else "down", netns=lay.lan)

    def _end(self, key: str, sig: signal.Signals) -> None:
        state = self._state()
        pid = state["processes"].pop(key, None)
        self._save(state)
        if pid is None:
            return
        child = self.children.pop(key, None)
        if child is None and not self._ours(pid):
            return  # started elsewhere, or the PID was reused: not ours to end
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        if child is not None:
            try:
                child.wait(timeout=5)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
            return
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid if not Path(f"/proc/{pid}").exists() else 0
            if done:
                return
            time.sleep(0.02)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)

    def _ours(self, pid: int) -> bool:
        """Every process the testbed starts runs in one of its namespaces."""
        named = subprocess.run(
            ["ip", "netns", "identify", str(pid)], capture_output=True, text=True, check=False
        ).stdout.strip()
        return named in self._state()["namespaces"]

    def ask(self, vip: str, port: int, connections: int) -> list[str]:
        """What the client gets back from `connections` new TCP connections to vip:port."""
        code = (
            "import socket,sys\n"
            "for _ in range(int(sys.argv[3])):\n"
            "    s=socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)\n"
            "    print(s.recv(200).decode().strip()); s.close()\n"
        )
        done = subprocess.run(
            _in(
                self.layout.client.netns,
                sys.executable,
                "-c",
                code,
                vip,
                str(port),
                str(connections),
            ),
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return done.stdout.splitlines()

    def down(self) -> None:
        state = self._state()
        for key in list(state["processes"]):
            self._end(key, signal.SIGTERM)
        # whatever still runs inside our namespaces is ours by construction
        for name in state["namespaces"]:
            pids = subprocess.run(
                ["ip", "netns", "pids", name], capture_output=True, text=True, check=False
            ).stdout.split()
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid), signal.SIGKILL)
        for name in reversed(state["namespaces"]):
            subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)
        (self.workdir / "state.json").unlink(missing_ok=True)

    def converged(self) -> bool:
        return self.nexthops() == self.expected()

    def wait_converged(self, timeout: float) -> bool:
        """Poll the router's FIB until it holds what the live LBs announce, or time runs out."""
        deadline = time.monotonic() + timeout
        while not self.converged():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.2)
        return True

    def nexthops(self) -> dict[str, set[IPv4Address]]:
        """service → next hops of its prefix in the (first) router's FIB."""
        router = self.layout.routers[0].netns
        found = {}
        for service in self.plan.services:
            shown = subprocess.run(
                ["ip", "-n", router, "-j", "route", "show", str(service.prefix)],
                capture_output=True,
                text=True,
                check=False,
            )
            routes = json.loads(shown.stdout or "[]")
            hops: set[IPv4Address] = set()
            for route in routes:
                if "nexthops" in route:
                    hops |= {IPv4Address(h["gateway"]) for h in route["nexthops"]}
                elif "gateway" in route:
                    hops.add(IPv4Address(route["gateway"]))
            found[service.name] = hops
        return found

    def expected(self) -> dict[str, set[IPv4Address]]:
        live = self._state()["processes"]
        return {
            s.name: {
                lb.node_address
                for lb in self.lbs
                if lb.service == s.name and f"{lb.box.netns}-exabgp" in live
            }
            for s in self.plan.services
        }
