"""LB128: each address family of a fabric is whole. A cluster is IPv4 (networks.nodes, pods),
IPv6-only (nodes6, pods6) or dual-stack (both); the BGP sessions run over IPv4 when it has it,
else over IPv6, so every router, reflector and node has an address of that family. In a
dual-stack cluster an IPv6 service prefix rides the IPv4 sessions with the node's IPv6 address as
next hop, so a service with a prefix6 needs every node that may run one of its LBs to have an
address6, and every router (it reaches those next hops on the node network) and every FRR
reflector (it reflects a path only when it resolves its next hop) too. A service announces a
prefix of a family the cluster has; an address or subnet needs its network."""

from __future__ import annotations

from collections.abc import Iterator

from lbgen.codes import finding
from lbgen.errors import Diagnostic
from lbgen.spec import Fabric, FabricSpec
from lbgen.spec.selection import eligible_nodes
from lbgen.spec.sessions import session_field, session_version

BOXES = (("routers", "router"), ("reflectors", "reflector"), ("nodes", "node"))


def check(fabric: Fabric) -> Iterator[Diagnostic]:
    spec = fabric.spec
    yield from _networks(spec)
    yield from _session_addresses(spec)
    yield from _services(spec)
    yield from _dual_stack_next_hops(spec)
    yield from _without_network(spec)


def _networks(spec: FabricSpec) -> Iterator[Diagnostic]:
    nets = spec.networks
    if nets.nodes is None and nets.nodes6 is None:
        yield finding(
            "LB128",
            ("spec", "networks"),
            "no node network is given",
            "give networks.nodes and pods (IPv4), nodes6 and pods6 (IPv6-only), or all four "
            "(dual-stack)",
        )
        return
    for nodes, pods in (("nodes", "pods"), ("nodes6", "pods6")):
        given, missing = (nodes, pods) if getattr(nets, pods) is None else (pods, nodes)
        if (getattr(nets, nodes) is None) != (getattr(nets, pods) is None):
            yield finding(
                "LB128",
                ("spec", "networks", given),
                f"networks.{given} is given but networks.{missing} is not",
                f"give networks.{missing} too: a family has a node and a pod network",
            )


def _session_addresses(spec: FabricSpec) -> Iterator[Diagnostic]:
    """Every box has an address where the sessions run (nodes: the next hop of their LBs)."""
    if spec.networks.nodes is None and spec.networks.nodes6 is None:
        return
    field = session_field(spec)
    over = (
        "over IPv4 (networks.nodes)"
        if session_version(spec) == 4
        else "over IPv6 (an IPv6-only cluster)"
    )
    network = "networks.nodes" if field == "address" else "networks.nodes6"
    for group, kind in BOXES:
        for index, box in enumerate(getattr(spec, group)):
            if getattr(box, field) is None:
                yield finding(
                    "LB128",
                    ("spec", group, index),
                    f"{kind} {box.name} has no {field}: the BGP sessions run {over}",
                    f"give its {field} in {network}",
                )


def _services(spec: FabricSpec) -> Iterator[Diagnostic]:
    nets = spec.networks
    for index, service in enumerate(spec.services):
        path = ("spec", "services", index)
        if service.prefix is None and service.prefix6 is None:
            yield finding(
                "LB128",
                path,
                f"service {service.name} announces no prefix",
                "give its prefix (IPv4), prefix6 (IPv6), or both (dual-stack)",
            )
        if service.prefix is not None and nets.nodes is None and nets.nodes6 is not None:
            yield finding(
                "LB128",
                (*path, "prefix"),
                f"service {service.name} has an IPv4 prefix but the cluster is IPv6-only "
                "(networks.nodes is not given)",
                "give the service a prefix6 instead, or give the cluster its IPv4 networks",
                ("spec", "networks"),
            )
        # one of the two alone is reported by _networks
        if service.prefix6 is not None and nets.nodes6 is None and nets.pods6 is None:
            for name in ("nodes6", "pods6"):
                yield finding(
                    "LB128",
                    (*path, "prefix6"),
                    f"service {service.name} has a prefix6 but networks.{name} is not given",
                    f"give networks.{name}: the IPv6 prefix of the "
                    f"{'node' if name == 'nodes6' else 'pod'} network",
                    ("spec", "networks"),
                )


def _dual_stack_next_hops(spec: FabricSpec) -> Iterator[Diagnostic]:
    """IPv6 routes over IPv4 sessions: the boxes on their way need an address6. (In an
    IPv6-only cluster every box has one already: _session_addresses.)"""
    if session_version(spec) != 4:
        return
    dual = [(i, s) for i, s in enumerate(spec.services) if s.prefix6 is not None]
    names = [node.name for node in spec.nodes]
    for index, service in dual:
        for node in eligible_nodes(service, spec.nodes):
            if node.address6 is None:
                yield finding(
                    "LB128",
                    ("spec", "nodes", names.index(node.name), "address"),
                    f"node {node.name} may run an LB of the dual-stack service {service.name} "
                    "but has no address6 (the next hop of its IPv6 prefix)",
                    "give the node's IPv6 address in networks.nodes6, or keep the service's "
                    "LBs off it (loadBalancers.nodes / nodeSelector)",
                    ("spec", "services", index, "prefix6"),
                )
    if not dual:
        return
    for index, reflector in enumerate(spec.reflectors):
        if reflector.implementation == "frr" and reflector.address6 is None:
            yield finding(
                "LB128",
                ("spec", "reflectors", index, "address"),
                f"FRR reflector {reflector.name} has no address6 but the fabric has dual-stack "
                "services: FRR reflects an IPv6 path only when it resolves its next hop "
                "(measured: it sent none)",
                "give the reflector's IPv6 address in networks.nodes6",
            )
    for index, router in enumerate(spec.routers):
        if router.address6 is None:
            yield finding(
                "LB128",
                ("spec", "routers", index, "address"),
                f"router {router.name} has no address6 but the fabric has dual-stack "
                "services: it could not reach their IPv6 next hops",
                "give the router's IPv6 address in networks.nodes6",
            )


def _without_network(spec: FabricSpec) -> Iterator[Diagnostic]:
    nets = spec.networks
    if nets.nodes is None and nets.nodes6 is None:
        return
    for group, field, network in (
        ("routers", "address", "nodes"),
        ("reflectors", "address", "nodes"),
        ("nodes", "address", "nodes"),
        ("nodes", "pod_subnet", "pods"),
        ("routers", "address6", "nodes6"),
        ("reflectors", "address6", "nodes6"),
        ("nodes", "address6", "nodes6"),
        ("nodes", "pod_subnet6", "pods6"),
    ):
        if getattr(nets, network) is not None:
            continue
        family = "IPv6" if network.endswith("6") else "IPv4"
        for index, box in enumerate(getattr(spec, group)):
            if getattr(box, field) is not None:
                camel = {"pod_subnet": "podSubnet", "pod_subnet6": "podSubnet6"}.get(field, field)
                yield finding(
                    "LB128",
                    ("spec", group, index, camel),
                    f"{camel} is given but networks.{network} is not",
                    f"give networks.{network}, the {family} prefix this is part of, or drop it",
                )
