"""The testbed's network part: namespaces, bridges and links, the routers' and reflectors'
daemons (as each one's implementation description says) and the nodes' routes, the pods'
network ends, and the boxes a test adds beside them."""

from __future__ import annotations

import shutil
import subprocess
import time
import zlib
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

from lbgen.boxconfig import with_passwords, write_secret_file
from lbgen.contract import (
    AGENT_CONFIG_NAME,
    BOX_PASSWORDS_NAME,
    ROUTER_FIB_CONFIG_NAME,
)
from lbgen.errors import LbgenError
from lbgen.implementations import of_reflector, of_router
from lbgen.implementations.description import Implementation
from lbgen.plan import AgentConfig
from lbgen.plan.base import Family
from lbgen.render import sysctl
from lbgen.render.k8s import FABRIC_DIR
from lbgen.runtime.agent.routes import SERVICE_LABEL, Allowed
from lbgen.runtime.agent.run import RouteTable
from lbgen.runtime.pod.datapath import local_routes
from lbgen.testbed.bed.core import Core
from lbgen.testbed.host import netns, secrets
from lbgen.testbed.model import daemons
from lbgen.testbed.model.daemons import ROUTER_FIB
from lbgen.testbed.model.shapes import Box, LbPod
from lbgen.verify.sysctl import read_sysctl


class Net:
    def __init__(self, core: Core) -> None:
        self.core = core

    def build(self) -> None:
        """Every namespace, bridge and link of the layout."""
        lay = self.core.layout
        self.core.add_netns(lay.lan)
        netns.add_bridge(lay.lan, "br0")
        for index, box in enumerate([*lay.routers, *lay.reflectors, *lay.nodes]):
            self.core.add_netns(box.netns)
            netns.attach(lay.lan, f"v{index}", box, bridge="br0")
        subnets6 = dict(lay.pod_subnets6)
        subnets = dict(lay.pod_subnets)
        for node in lay.nodes:
            four, six = subnets.get(node.name), subnets6.get(node.name)
            address = f"{four.network_address + 1}/{four.prefixlen}" if four else None
            address6 = f"{six.network_address + 1}/{six.prefixlen}" if six else None
            netns.add_bridge(node.netns, "cni0", address, address6)
        for lb in lay.lbs:
            self.lb_network(lb)
        for client, router in zip(lay.clients, lay.routers, strict=True):
            self.core.add_netns(client.box.netns)
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
        self.core.add_netns(lay.api.netns)
        netns.attach(lay.lan, "vapi", lay.api, bridge="br0")
        for index, backend in enumerate(lay.backends):
            self.core.add_netns(backend.box.netns)
            netns.attach(backend.bridge_netns, f"b{index}", backend.box, bridge="cni0")

    def add_pod(self, name: str, node: str, address: IPv4Address) -> str:
        """Another pod on a node's pod network (a test's rogue speaker); `down` removes it too."""
        return self.pod(name, node, address).netns

    def pod(self, name: str, node: str, address: IPv4Address) -> Box:
        subnet = dict(self.core.layout.pod_subnets)[node]
        gateway = (("default", str(subnet.network_address + 1)),)
        box = Box(name, f"{self.core.prefix}{name}", address, subnet, gateway)
        self.core.add_netns(box.netns)
        netns.attach(f"{self.core.prefix}n-{node}", _link_name(name), box, bridge="cni0")
        return box

    def add_probe(self, name: str, address: IPv4Address) -> str:
        """A test's box on the node network, beside the nodes, with no routes: a route through
        one node (`ip route ... via <node>`) reaches that node's LB pod and no other."""
        box = Box(name, f"{self.core.prefix}{name}", address, self.core.plan.node_network, ())
        self.core.add_netns(box.netns)
        netns.attach(self.core.layout.lan, _link_name(name), box, bridge="br0")
        return box.netns

    def remove_pod(self, name: str) -> None:
        """Delete a namespace a test added (add_pod, add_probe)."""
        self.core.remove_netns(name)

    def _sysctl(self, box_netns: str, file: str) -> None:
        """Apply a compiled sysctl.conf in a namespace; host-only keys cannot be, and are named."""
        settings = {key: value for key, (value, _) in read_sysctl(self.core.tree[file]).items()}
        skipped = netns.apply_sysctls(box_netns, settings)
        if skipped:
            with (self.core.workdir / "log" / "sysctl-skipped.txt").open("a") as log:
                log.write(f"{box_netns}: {', '.join(skipped)} (host-only, not settable here)\n")

    def routers(self) -> None:
        by_name = {r.name: r for r in self.core.plan.routers}
        for box in self.core.layout.routers:
            router = by_name[box.name]
            self._box(box, f"routers/{box.name}", of_router(router), router.families)
            self.start_router_fib(box.name)

    def reflectors(self) -> None:
        by_name = {rr.name: rr for rr in self.core.plan.reflectors}
        for box in self.core.layout.reflectors:
            rr = by_name[box.name]
            self._box(box, f"reflectors/{box.name}", of_reflector(rr), rr.families)

    def _box(
        self,
        box: Box,
        base: str,
        implementation: Implementation[Any],
        families: tuple[Family, ...],
    ) -> None:
        """A router or reflector as its implementation's description says the testbed runs it:
        its daemons in order, on its config as `lbgen box-config` makes it on the box (the
        compiled file and its passwords), or on the one its owners wrote."""
        run = implementation.testbed
        if run.owners:
            conf = self.core.external[box.name]
        else:
            conf = self.core.tree[f"{base}/{implementation.config}"]
            if implementation.joins is not None:
                listing = self.core.tree.get(f"{base}/{BOX_PASSWORDS_NAME}")
                root = secrets.box_root(self.core.workdir, base)
                conf = with_passwords(conf, listing, base, root, implementation.joins)
        if implementation.sysctl:
            self._sysctl(box.netns, f"{base}/sysctl.conf")
        else:
            # the owners' router: forwarding on, as theirs would be
            settings = {s.key: s.value for s in sysctl.router(families)}
            netns.apply_sysctls(box.netns, settings)
        folder = self.core.workdir / box.netns
        folder.mkdir(exist_ok=True)
        for name in run.daemons:
            daemon = daemons.DAEMONS[name]
            path = folder / daemon.config
            if not path.exists():
                path.touch(mode=0o640 if daemon.user else 0o600)
                if daemon.user:
                    shutil.chown(folder, daemon.user, daemon.user)
                    shutil.chown(path, daemon.user, daemon.user)
                write_secret_file(path, conf)
            self.core.spawn(f"{box.netns}-{name}", daemon.argv(box.netns, folder))
            if daemon.ready is not None:
                _wait_for_file(folder / daemon.ready, f"{name} in {box.netns}")

    def start_router_fib(self, router: str) -> None:
        """A router's `lbgen router-fib` on its compiled router-fib.json, as its systemd unit
        runs it (none when the spec gives it no resilientEcmp via router-fib)."""
        config = self.core.tree.get(f"routers/{router}/{ROUTER_FIB_CONFIG_NAME}")
        if config is None:
            return
        box = next(b for b in self.core.layout.routers if b.name == router)
        path = self.core.workdir / f"{box.netns}.{ROUTER_FIB_CONFIG_NAME}"
        path.write_text(config)
        self.core.spawn(f"{box.netns}-{ROUTER_FIB}", daemons.router_fib_argv(box.netns, path))

    def nodes(self) -> None:
        for node in self.core.layout.nodes:
            self._sysctl(node.netns, f"nodes/{node.name}/sysctl.conf")
        self.node_routes()

    def node_routes(self) -> None:
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
            for lb in self.core.lbs
        }
        # what the node agent reads: the compiled node-agent.json
        config = AgentConfig.model_validate_json(
            self.core.tree[f"cluster/{FABRIC_DIR}/{AGENT_CONFIG_NAME}"]
        )
        allowed = Allowed.from_config(config)
        for node in self.core.layout.nodes:
            RouteTable(allowed, node.netns).reconcile(pods, node.name)

    def lan_link(self, box_name: str) -> str:
        lay = self.core.layout
        boxes = [b.name for b in (*lay.routers, *lay.reflectors, *lay.nodes)]
        return f"v{boxes.index(box_name)}"

    def lb_network(self, lb: LbPod) -> None:
        self.core.add_netns(lb.box.netns)
        netns.attach(lb.bridge_netns, lb.veth, lb.box, bridge="cni0")
        for route in local_routes(self.core.service(lb.service)):
            subprocess.run(netns.inside(lb.box.netns, *route), check=True)


def _wait_for_file(path: Path, what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise LbgenError(f"{what} did not start")
        time.sleep(0.05)


def _link_name(name: str) -> str:
    """A test box's link on its bridge: 15 bytes at most, distinct for distinct names."""
    return f"x{zlib.crc32(name.encode()):08x}"
