"""LB106–LB109, LB119–LB123, LB129: where the boxes' addresses, router ids, reflector ranges and
pod subnets sit, and which of them collide (the services' own: services.py)."""

from __future__ import annotations

from collections.abc import Iterator
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

from lbgen.diagnostics import Diagnostic, SpecPath, finding, format_path
from lbgen.spec import Fabric
from lbgen.spec.sessions import session_nodes, session_pods, session_version


def check(fabric: Fabric) -> Iterator[Diagnostic]:
    yield from _networks(fabric)
    yield from _host_addresses(fabric)
    yield from _router_ids(fabric)
    yield from _reflector_ranges(fabric)
    yield from _pod_subnets(fabric)


def _networks(fabric: Fabric) -> Iterator[Diagnostic]:
    nets = fabric.spec.networks
    for nodes, pods, suffix in ((nets.nodes, nets.pods, ""), (nets.nodes6, nets.pods6, "6")):
        if nodes is not None and pods is not None and nodes.overlaps(pods):
            yield finding(
                "LB119",
                ("spec", "networks", f"pods{suffix}"),
                f"{pods} overlaps networks.nodes{suffix} {nodes}",
                "the pod (overlay) and node networks must be disjoint",
                ("spec", "networks", f"nodes{suffix}"),
            )


Address = IPv4Address | IPv6Address


def _hosts(fabric: Fabric, field: str) -> Iterator[tuple[SpecPath, str, Address]]:
    """Each box's `address` or `address6`, where it gives one."""
    for group, index, host in fabric.spec.boxes():
        address = getattr(host, field)
        if address is not None:
            yield ("spec", group, index, field), group[:-1], address


def _host_addresses(fabric: Fabric) -> Iterator[Diagnostic]:
    nets = fabric.spec.networks
    for field, network, name in (
        ("address", nets.nodes, "nodes"),
        ("address6", nets.nodes6, "nodes6"),
    ):
        if network is not None:
            yield from _in_node_network(fabric, field, network, name)


def _in_node_network(
    fabric: Fabric, field: str, network: IPv4Network | IPv6Network, name: str
) -> Iterator[Diagnostic]:
    seen: dict[Address, SpecPath] = {}
    for path, kind, address in _hosts(fabric, field):
        if address not in network:
            yield finding(
                "LB106",
                path,
                f"{kind} address {address} is outside networks.{name} {network}",
                f"use an address inside {network}, or widen networks.{name}",
                ("spec", "networks", name),
            )
        elif (
            network.version == 4
            and network.prefixlen < 31
            and address
            in (
                network.network_address,
                network.broadcast_address,
            )
        ):
            yield finding(
                "LB106",
                path,
                f"{kind} address {address} is the network or broadcast address of {network}",
                "use a host address of the node network",
            )
        if address in seen:
            yield finding(
                "LB107",
                path,
                f"address {address} is already used by {format_path(seen[address])}",
                "every router, reflector and node needs its own address",
                seen[address],
            )
        else:
            seen[address] = path


def _router_ids(fabric: Fabric) -> Iterator[Diagnostic]:
    spec = fabric.spec
    seen: dict[IPv4Address, SpecPath] = {}
    for group in ("routers", "reflectors"):
        for index, speaker in enumerate(getattr(spec, group)):
            explicit = speaker.router_id is not None
            router_id = speaker.router_id or speaker.address
            path: SpecPath = ("spec", group, index, "routerId" if explicit else "address")
            if router_id is None:
                if session_version(spec) == 6:
                    yield finding(
                        "LB129",
                        ("spec", group, index),
                        f"{group[:-1]} {speaker.name} has no routerId and no IPv4 address to "
                        "take it from (an IPv6-only cluster)",
                        "give it a routerId: 32 bits in dotted form, unique in the fabric, "
                        "e.g. 10.255.0.1",
                    )
                continue
            if router_id in seen:
                yield finding(
                    "LB108",
                    path,
                    f"router-id {router_id} is already used by {format_path(seen[router_id][:3])}",
                    "give every BGP speaker its own routerId",
                    seen[router_id],
                )
            else:
                seen[router_id] = path
            if explicit and spec.networks.pods is not None and router_id in spec.networks.pods:
                yield finding(
                    "LB108",
                    path,
                    f"router-id {router_id} is inside networks.pods, where LB pods take theirs",
                    "pick a router-id outside the pod network (the node address is a good one)",
                )


def _reflector_ranges(fabric: Fabric) -> Iterator[Diagnostic]:
    """LB pods dial the reflectors from the pod network of the sessions' family."""
    spec = fabric.spec
    pods, nodes = session_pods(spec), session_nodes(spec)
    if pods is None or nodes is None:
        return  # LB128
    suffix = "" if pods.version == 4 else "6"
    for index, reflector in enumerate(spec.reflectors):
        accepted = reflector.pod_range or pods
        path: SpecPath = ("spec", "reflectors", index, "podRange")
        if accepted.version != pods.version:
            yield finding(
                "LB109",
                path,
                f"podRange {accepted} is IPv{accepted.version} but the LB pods' sessions run "
                f"over IPv{pods.version}",
                f"set podRange to a range of networks.pods{suffix} {pods}, or leave it out",
                ("spec", "networks", f"pods{suffix}"),
            )
        elif not pods.subnet_of(accepted):  # type: ignore[arg-type]
            yield finding(
                "LB109",
                path,
                f"reflector {reflector.name} accepts LB peers only from {accepted}, "
                f"which does not cover networks.pods{suffix} {pods}",
                f"set podRange to {pods} (the default) or a range containing it",
                ("spec", "networks", f"pods{suffix}"),
            )
        elif accepted.overlaps(nodes):
            yield finding(
                "LB121",
                path,
                f"podRange {accepted} also covers networks.nodes{suffix} {nodes}: any host of "
                "the node network could peer as an LB",
                "narrow podRange to the pod network",
            )


def _pod_subnets(fabric: Fabric) -> Iterator[Diagnostic]:
    """A node's podSubnet binds its routes to pods there: it must be inside the pod network
    (and every reflector's podRange) and no other node's; its podSubnet6 inside pods6."""
    for pods, suffix in ((fabric.spec.networks.pods, ""), (fabric.spec.networks.pods6, "6")):
        if pods is None:
            continue
        ranges: list[IPv4Network | IPv6Network] = [
            pods,
            *(
                r.pod_range
                for r in fabric.spec.reflectors
                if r.pod_range and r.pod_range.version == pods.version
            ),
        ]
        inside = f"networks.pods{suffix} {pods}"
        if len(ranges) > 1:
            inside += " and every reflector's podRange"
        yield from _subnets(
            fabric,
            field=f"pod_subnet{suffix}",
            name=f"podSubnet{suffix}",
            ranges=ranges,
            inside=inside,
            network=f"networks.pods{suffix}",
        )


def _subnets(
    fabric: Fabric,
    *,
    field: str,
    name: str,
    ranges: list[IPv4Network | IPv6Network],
    inside: str,
    network: str,
) -> Iterator[Diagnostic]:
    seen = _Seen()
    for index, node in enumerate(fabric.spec.nodes):
        subnet = getattr(node, field)
        if subnet is None:
            continue
        path = ("spec", "nodes", index, name)
        if not all(subnet.subnet_of(r) for r in ranges):
            yield finding(
                "LB122",
                path,
                f"{subnet} is not inside {inside}",
                f"give the node's podCIDR, a part of {network}",
            )
        for other, where in seen.overlapping(subnet):
            yield finding(
                "LB123",
                path,
                f"{subnet} overlaps nodes[{where}].{name} {other}",
                "each node has a pod subnet of its own",
                ("spec", "nodes", where, name),
            )
        seen.add(subnet, index)


AnyNet = IPv4Network | IPv6Network


def _cuts(net: AnyNet) -> list[tuple[int, int, int]]:
    """The network and each of its supernets, as (version, leading bits, length)."""
    bits, address = net.max_prefixlen, int(net.network_address)
    return [(net.version, address >> (bits - n), n) for n in range(net.prefixlen + 1)]


class _Seen:
    """Networks seen so far, each with the last index it came with; which of them overlap a new
    one (CIDR blocks overlap when one holds the other), in the order they were first seen —
    found through each network's supernets, not by comparing it with every other."""

    def __init__(self) -> None:
        self.index: dict[AnyNet, int] = {}  # the last index each came with
        self.order: dict[AnyNet, int] = {}
        self.exact: dict[tuple[int, int, int], AnyNet] = {}
        self.within: dict[tuple[int, int, int], list[AnyNet]] = {}

    def add(self, net: AnyNet, index: int) -> None:
        if net not in self.index:
            self.order[net] = len(self.order)
            cuts = _cuts(net)
            self.exact[cuts[-1]] = net
            for cut in cuts:
                self.within.setdefault(cut, []).append(net)
        self.index[net] = index

    def overlapping(self, net: AnyNet) -> list[tuple[AnyNet, int]]:
        cuts = _cuts(net)
        found = {self.exact[cut] for cut in cuts if cut in self.exact}  # it lies in them
        found.update(self.within.get(cuts[-1], ()))  # they lie in it
        return [(other, self.index[other]) for other in sorted(found, key=self.order.__getitem__)]
