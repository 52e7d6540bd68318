"""Where everything of a testbed goes: namespaces, links, addresses, routes. Pure, from the plan.

Node network: a bridge in its own namespace. Pod network: one /24 per node, routed between nodes
and to the reflectors the way flannel host-gw does. A client sits behind the router on a /30 of
198.18.0.0/15 (RFC 2544's benchmarking range), inside the testbed only."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

from lbgen.plan import Plan

CLIENT_NET = IPv4Network("198.18.0.0/30")


@dataclass(frozen=True)
class Box:
    """One namespace with one interface (eth0) on a link, and its routes."""

    name: str
    netns: str
    address: IPv4Address
    network: IPv4Network
    routes: tuple[tuple[str, str], ...]  # (destination, gateway)


@dataclass(frozen=True)
class LbPod:
    service: str
    node: str
    box: Box
    node_address: IPv4Address
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
class Layout:
    prefix: str
    lan: str
    routers: tuple[Box, ...]
    reflectors: tuple[Box, ...]
    nodes: tuple[Box, ...]
    pod_subnets: tuple[tuple[str, IPv4Network], ...]  # node → its pod /24
    lbs: tuple[LbPod, ...]
    client: Box
    router_client_side: IPv4Address
    api: Box  # the stand-in Kubernetes API server, on the node network
    backends: tuple[Backend, ...]


def pod_subnet(plan: Plan, node_index: int) -> IPv4Network:
    """Node i's pod /24: the (i+1)-th of the pod network (the first is left out, as flannel)."""
    first = int(plan.pod_network.network_address)
    return IPv4Network((first + (node_index + 1) * 256, 24))


def lb_pod(plan: Plan, prefix: str, service: str, node: str) -> LbPod:
    """The LB pod of `service` on `node`: one per pair, so its names and address are fixed."""
    s_index = [s.name for s in plan.services].index(service)
    n_index = [n.name for n in plan.nodes].index(node)
    subnet = pod_subnet(plan, n_index)
    box = Box(
        f"{service}@{node}",
        f"{prefix}l{s_index}-{node}",
        subnet.network_address + 10 + s_index,
        subnet,
        (("default", str(subnet.network_address + 1)),),
    )
    return LbPod(
        service, node, box, plan.nodes[n_index].address, f"{prefix}n-{node}", f"p{s_index}"
    )


def layout(plan: Plan, prefix: str) -> Layout:
    net = plan.node_network
    pod_subnets = tuple((node.name, pod_subnet(plan, i)) for i, node in enumerate(plan.nodes))
    by_node = dict(pod_subnets)
    host_gw = tuple((str(by_node[n.name]), str(n.address)) for n in plan.nodes)
    routers = tuple(Box(r.name, f"{prefix}r-{r.name}", r.address, net, ()) for r in plan.routers)
    default_gw = str(plan.routers[0].address)
    reflectors = tuple(
        Box(r.name, f"{prefix}rr-{r.name}", r.address, net, host_gw) for r in plan.reflectors
    )
    nodes = tuple(
        Box(
            n.name,
            f"{prefix}n-{n.name}",
            n.address,
            net,
            (*((dst, gw) for dst, gw in host_gw if gw != str(n.address)), ("default", default_gw)),
        )
        for n in plan.nodes
    )
    lbs = [lb_pod(plan, prefix, s.name, node) for s in plan.services for node in s.placement]
    addresses = {n.name: n.address for n in plan.nodes}
    client = Box(
        "client",
        f"{prefix}client",
        CLIENT_NET.network_address + 2,
        CLIENT_NET,
        (("default", str(CLIENT_NET.network_address + 1)),),
    )
    taken = (
        {r.address for r in plan.routers}
        | {r.address for r in plan.reflectors}
        | set(addresses.values())
    )
    api_address = net.broadcast_address - 1
    while api_address in taken:
        api_address -= 1
    api = Box("api", f"{prefix}api", api_address, net, host_gw)
    backends = []
    for s_index, service in enumerate(plan.services):
        for k in range(BACKENDS_PER_SERVICE):
            host = plan.nodes[(s_index + k) % len(plan.nodes)]
            subnet = by_node[host.name]
            box = Box(
                f"{service.backend.service}-{k}",
                f"{prefix}b{s_index}-{k}",
                subnet.network_address + 100 + s_index * BACKENDS_PER_SERVICE + k,
                subnet,
                (("default", str(subnet.network_address + 1)),),
            )
            backends.append(Backend(service.name, box, f"{prefix}n-{host.name}"))
    return Layout(
        prefix,
        f"{prefix}lan",
        routers,
        reflectors,
        nodes,
        pod_subnets,
        tuple(lbs),
        client,
        CLIENT_NET.network_address + 1,
        api,
        tuple(backends),
    )
