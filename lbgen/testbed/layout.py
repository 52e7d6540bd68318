"""Where everything of a testbed goes: namespaces, links, addresses, routes. Pure, from the plan.

Node network: a bridge in its own namespace. Pod network: one /24 per node, routed between nodes
and to the reflectors the way flannel host-gw does. A client sits behind each router on a /30 of
198.18.0.0/15 (RFC 2544's benchmarking range), inside the testbed only."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

from lbgen.plan import Plan

CLIENT_NETS = IPv4Network("198.18.0.0/16")


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
class Client:
    """A client behind one router: its own /30, the router's address on it."""

    router: str
    box: Box
    router_side: IPv4Address


@dataclass(frozen=True)
class Layout:
    prefix: str
    lan: str
    routers: tuple[Box, ...]
    reflectors: tuple[Box, ...]
    nodes: tuple[Box, ...]
    pod_subnets: tuple[tuple[str, IPv4Network], ...]  # node → its pod /24
    lbs: tuple[LbPod, ...]
    clients: tuple[Client, ...]  # one behind each router, in the routers' order
    api: Box  # the stand-in Kubernetes API server, on the node network
    backends: tuple[Backend, ...]


def pod_subnet(plan: Plan, node_index: int) -> IPv4Network:
    """Node i's pod subnet: the spec's podSubnet, else the (i+1)-th /24 of the pod network
    (the first is left out, as flannel)."""
    given = plan.nodes[node_index].pod_subnet
    if given is not None:
        return given
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


def _client_link(index: int) -> IPv4Network:
    return IPv4Network((int(CLIENT_NETS.network_address) + 4 * index, 30))


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
    # replies to each router's client go back through that router
    to_clients = tuple(
        (str(_client_link(index)), str(r.address)) for index, r in enumerate(plan.routers)
    )
    nodes = tuple(
        Box(
            n.name,
            f"{prefix}n-{n.name}",
            n.address,
            net,
            (
                *((dst, gw) for dst, gw in host_gw if gw != str(n.address)),
                *to_clients,
                ("default", default_gw),
            ),
        )
        for n in plan.nodes
    )
    lbs = [lb_pod(plan, prefix, s.name, node) for s in plan.services for node in s.placement]
    addresses = {n.name: n.address for n in plan.nodes}
    clients = []
    for index, router in enumerate(plan.routers):
        link = _client_link(index)
        box = Box(
            f"client-{router.name}",
            f"{prefix}c-{router.name}",
            link.network_address + 2,
            link,
            (("default", str(link.network_address + 1)),),
        )
        clients.append(Client(router.name, box, link.network_address + 1))
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
        tuple(clients),
        api,
        tuple(backends),
    )
