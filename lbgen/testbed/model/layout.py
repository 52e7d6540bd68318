"""Where everything of a testbed goes: namespaces, links, addresses, routes. Pure, from the plan.

Node network: a bridge in its own namespace. Pod network: one /24 per node, routed between nodes
and to the reflectors the way flannel host-gw does. A client sits behind each router on a /30 of
198.18.0.0/15 (RFC 2544's benchmarking range), inside the testbed only."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import TypeVar

from lbgen.plan import Plan
from lbgen.testbed.model.shapes import (
    BACKENDS_PER_SERVICE,
    Backend,
    Box,
    Client,
    Layout,
    LbPod,
)

CLIENT_NETS = IPv4Network("198.18.0.0/16")
# a dual-stack fabric's clients: RFC 5180's IPv6 benchmarking range, a /64 behind each router
CLIENT_NETS6 = IPv6Network("2001:2::/48")


def pod_subnet(plan: Plan, node_index: int) -> IPv4Network | None:
    """Node i's pod subnet: the spec's podSubnet, else the (i+1)-th /24 of the pod network
    (the first is left out, as flannel); none in an IPv6-only fabric."""
    return _nth(plan.nodes[node_index].pod_subnet, plan.pod_network, node_index + 1, 24)


def pod_subnet6(plan: Plan, node_index: int) -> IPv6Network | None:
    """Node i's IPv6 pod subnet: the spec's podSubnet6, else the (i+1)-th /64 of pods6."""
    return _nth(plan.nodes[node_index].pod_subnet6, plan.pod_network6, node_index + 1, 64)


Net = TypeVar("Net", IPv4Network, IPv6Network)


def _nth(given: Net | None, network: Net | None, n: int, length: int) -> Net | None:
    """`given`, else the n-th subnet of `length` in `network` (none without one)."""
    if given is not None or network is None:
        return given
    size = 1 << (network.max_prefixlen - length)
    return type(network)((int(network.network_address) + n * size, length))


def _on(box: Box, link: IPv4Network | IPv6Network | None, host: int) -> Box:
    """`box` with the `host`-th address of `link` (its family's side), its default route via
    the link's first address (the node's pod bridge, or the router); unchanged without one."""
    if link is None:
        return box
    default = (("default", str(link.network_address + 1)),)
    if isinstance(link, IPv4Network):
        return replace(box, address=link.network_address + host, network=link, routes=default)
    return replace(box, address6=link.network_address + host, network6=link, routes6=default)


def _pod_box(
    name: str,
    netns: str,
    subnet: IPv4Network | None,
    subnet6: IPv6Network | None,
    host: int,
) -> Box:
    """A pod on its node's pod subnets: host `host` of each, default routes via the node."""
    return _on(_on(Box(name, netns, None, None, ()), subnet, host), subnet6, host)


def lb_pod(plan: Plan, prefix: str, service: str, node: str) -> LbPod:
    """The LB pod of `service` on `node`: one per pair, so its names and address are fixed."""
    s_index = [s.name for s in plan.services].index(service)
    n_index = [n.name for n in plan.nodes].index(node)
    six = plan.services[s_index].prefix6 is not None or plan.session_version == 6
    box = _pod_box(
        f"{service}@{node}",
        f"{prefix}l{s_index}-{node}",
        pod_subnet(plan, n_index),
        pod_subnet6(plan, n_index) if six else None,
        10 + s_index,
    )
    host = plan.nodes[n_index]
    node_address = host.address or host.address6
    assert node_address is not None, "checked: LB128"
    return LbPod(service, node, box, node_address, f"{prefix}n-{node}", f"p{s_index}")


def _client_link(index: int) -> IPv4Network:
    return IPv4Network((int(CLIENT_NETS.network_address) + 4 * index, 30))


def _client_link6(index: int) -> IPv6Network:
    return IPv6Network((int(CLIENT_NETS6.network_address) + (index << 64), 64))


def _v4(address: IPv4Address | IPv6Address | None) -> IPv4Address | None:
    return address if isinstance(address, IPv4Address) else None


def _lan(
    plan: Plan,
    name: str,
    netns: str,
    address: IPv4Address | None,
    address6: IPv6Address | None,
    *,
    routes: tuple[tuple[str, str], ...] = (),
    routes6: tuple[tuple[str, str], ...] = (),
) -> Box:
    """A box on the node network: each family's side where it has an address of it."""
    return Box(
        name,
        netns,
        address,
        plan.node_network if address else None,
        routes if address else (),
        address6,
        plan.node_network6 if address6 else None,
        routes6 if address6 else (),
    )


def _of_nodes(plan: Plan, subnet: Callable[[Plan, int], Net | None]) -> tuple[tuple[str, Net], ...]:
    """node → its pod subnet of one family, for the nodes that have one."""
    found = ((n.name, subnet(plan, i)) for i, n in enumerate(plan.nodes))
    return tuple((name, net) for name, net in found if net is not None)


def _host_gw(
    subnets: tuple[tuple[str, Net], ...], addresses: Mapping[str, IPv4Address | IPv6Address | None]
) -> tuple[tuple[str, str], ...]:
    """Routes to each node's pod subnet via the node's address of that family (flannel's
    host-gw)."""
    return tuple(
        (str(net), str(address))
        for name, net in subnets
        if (address := addresses[name]) is not None
    )


def layout(plan: Plan, prefix: str) -> Layout:
    pod_subnets = _of_nodes(plan, pod_subnet)
    pod_subnets6 = _of_nodes(plan, pod_subnet6)
    host_gw = _host_gw(pod_subnets, {n.name: n.address for n in plan.nodes})
    host_gw6 = _host_gw(pod_subnets6, {n.name: n.address6 for n in plan.nodes})
    routers = tuple(
        _lan(plan, r.name, f"{prefix}r-{r.name}", _v4(r.address), r.address6) for r in plan.routers
    )
    # the reflectors reach the LB pods (dynamic neighbours) through their nodes
    reflectors = tuple(
        _lan(
            plan,
            r.name,
            f"{prefix}rr-{r.name}",
            _v4(r.address),
            r.address6,
            routes=host_gw,
            routes6=host_gw6,
        )
        for r in plan.reflectors
    )
    # replies to each router's client go back through that router
    to_clients = tuple(
        (str(_client_link(index)), str(a))
        for index, r in enumerate(plan.routers)
        if (a := _v4(r.address)) is not None
    )
    to_clients6 = tuple(
        (str(_client_link6(index)), str(r.address6))
        for index, r in enumerate(plan.routers)
        if r.address6 is not None
    )
    first = next((str(a) for r in plan.routers if (a := _v4(r.address))), None)
    first6 = next((str(r.address6) for r in plan.routers if r.address6), None)
    nodes = tuple(
        _lan(
            plan,
            n.name,
            f"{prefix}n-{n.name}",
            n.address,
            n.address6,
            routes=(
                *((dst, gw) for dst, gw in host_gw if gw != str(n.address)),
                *to_clients,
                *((("default", first),) if first else ()),
            ),
            routes6=(
                *((dst, gw) for dst, gw in host_gw6 if gw != str(n.address6)),
                *to_clients6,
                *((("default", first6),) if first6 else ()),
            ),
        )
        for n in plan.nodes
    )
    lbs = [lb_pod(plan, prefix, s.name, node) for s in plan.services for node in s.placement]
    return Layout(
        prefix,
        f"{prefix}lan",
        routers,
        reflectors,
        nodes,
        pod_subnets,
        pod_subnets6,
        tuple(lbs),
        _clients(plan, prefix),
        _api(plan, prefix, host_gw, host_gw6),
        _backends(plan, prefix, dict(pod_subnets), dict(pod_subnets6)),
    )


def _clients(plan: Plan, prefix: str) -> tuple[Client, ...]:
    clients = []
    for index, router in enumerate(plan.routers):
        # the client is host 2 of a link per family the router has, the router host 1
        link = _client_link(index) if _v4(router.address) is not None else None
        link6 = _client_link6(index) if router.address6 is not None else None
        box = Box(f"client-{router.name}", f"{prefix}c-{router.name}", None, None, ())
        box = _on(_on(box, link, 2), link6, 2)
        clients.append(
            Client(
                router.name,
                box,
                link.network_address + 1 if link else None,
                link6.network_address + 1 if link6 else None,
            )
        )
    return tuple(clients)


def _backends(
    plan: Plan,
    prefix: str,
    by_node: dict[str, IPv4Network],
    by_node6: dict[str, IPv6Network],
) -> tuple[Backend, ...]:
    """Each service's backend pods, spread over the nodes."""
    backends = []
    for s_index, service in enumerate(plan.services):
        for k in range(BACKENDS_PER_SERVICE):
            host = plan.nodes[(s_index + k) % len(plan.nodes)]
            box = _pod_box(
                f"{service.backend.service}-{k}",
                f"{prefix}b{s_index}-{k}",
                by_node.get(host.name) if service.prefix is not None else None,
                by_node6.get(host.name) if service.prefix6 is not None else None,
                100 + s_index * BACKENDS_PER_SERVICE + k,
            )
            backends.append(Backend(service.name, box, f"{prefix}n-{host.name}"))
    return tuple(backends)


def _api(
    plan: Plan,
    prefix: str,
    host_gw: tuple[tuple[str, str], ...],
    host_gw6: tuple[tuple[str, str], ...],
) -> Box:
    """The stand-in API server: near the top of the node network (the IPv6 one in an
    IPv6-only fabric), on an address no box has, routed to the pods through their nodes."""
    taken = {
        a
        for a in (
            *(r.address for r in plan.routers),
            *(r.address6 for r in plan.routers),
            *(r.address for r in plan.reflectors),
            *(r.address6 for r in plan.reflectors),
            *(n.address for n in plan.nodes),
            *(n.address6 for n in plan.nodes),
        )
        if a is not None
    }
    if plan.node_network is not None:
        address = plan.node_network.broadcast_address - 1
        while address in taken:
            address -= 1
        return _lan(plan, "api", f"{prefix}api", address, None, routes=host_gw)
    assert plan.node_network6 is not None, "checked: LB128"
    address6 = plan.node_network6.network_address + 0xFFFE
    while address6 in taken:
        address6 -= 1
    return _lan(plan, "api", f"{prefix}api", None, address6, routes6=host_gw6)
