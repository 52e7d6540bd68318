"""What a testbed is made of: boxes (one namespace each), LB pods, backends, clients, and the
layout that places them."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network


@dataclass(frozen=True)
class Box:
    """One namespace with one interface (eth0) on a link, and its routes."""

    name: str
    netns: str
    # its IPv4 side (none in an IPv6-only fabric)
    address: IPv4Address | None
    network: IPv4Network | None
    routes: tuple[tuple[str, str], ...]  # (destination, gateway)
    # its IPv6 side (a dual-stack or IPv6-only fabric), on the same link
    address6: IPv6Address | None = None
    network6: IPv6Network | None = None
    routes6: tuple[tuple[str, str], ...] = ()

    @property
    def main(self) -> IPv4Address | IPv6Address:
        """Where it speaks BGP and serves HTTP: IPv4 if it has it, else IPv6."""
        found = self.address or self.address6
        if found is None:
            raise ValueError(f"box {self.name} has no address")
        return found


def url_host(address: IPv4Address | IPv6Address) -> str:
    """An address as a URL's host: IPv6 in brackets."""
    return f"[{address}]" if address.version == 6 else str(address)


@dataclass(frozen=True)
class LbPod:
    service: str
    node: str
    box: Box
    node_address: IPv4Address | IPv6Address  # its node's, in the sessions' family
    bridge_netns: str  # the node's namespace, where its pod bridge is
    veth: str  # its link's end on the node's pod bridge (one LB of a service per node)


@dataclass(frozen=True)
class Backend:
    """A backend pod of a service: answers on its target port, listed in an EndpointSlice."""

    service: str
    box: Box
    bridge_netns: str


BACKENDS_PER_SERVICE = 2
BACKEND_PORT = 8080


@dataclass(frozen=True)
class Client:
    """A client behind one router: its own /30 (and /64), the router's address on it."""

    router: str
    box: Box
    router_side: IPv4Address | None
    router_side6: IPv6Address | None = None


@dataclass(frozen=True)
class Layout:
    prefix: str
    lan: str
    routers: tuple[Box, ...]
    reflectors: tuple[Box, ...]
    nodes: tuple[Box, ...]
    pod_subnets: tuple[tuple[str, IPv4Network], ...]  # node → its pod /24 (IPv4)
    pod_subnets6: tuple[tuple[str, IPv6Network], ...]  # node → its pod /64 (dual-stack)
    lbs: tuple[LbPod, ...]
    clients: tuple[Client, ...]  # one behind each router, in the routers' order
    api: Box  # the stand-in Kubernetes API server, on the node network
    backends: tuple[Backend, ...]
