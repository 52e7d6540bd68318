"""LB128: each address family of a fabric is whole. A cluster is IPv4 (networks.nodes, pods),
IPv6-only (nodes6, pods6) or dual-stack (both); the BGP sessions run over IPv4 when it has it,
else over IPv6, so every router, reflector and node has an address of that family. In a
dual-stack cluster an IPv6 service prefix rides the IPv4 sessions with the node's IPv6 address as
next hop, so a service with a prefix6 needs every node that may run one of its LBs to have an
address6, and every router (it reaches those next hops on the node network) and every FRR
reflector (it reflects a path only when it resolves its next hop) too. A service announces a
prefix; an address, subnet or prefix needs the network of its family."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic.alias_generators import to_camel

from lbgen.diagnostics import Diagnostic, finding
from lbgen.implementations import REFLECTORS
from lbgen.spec import Fabric, FabricSpec
from lbgen.spec.selection import Eligibility
from lbgen.spec.sessions import session_field, session_version

# what needs which network: (spec list, field, the network of its family)
PLACED_IN = (
    *((group, "address", "nodes") for group in ("routers", "reflectors", "nodes")),
    ("nodes", "pod_subnet", "pods"),
    ("services", "prefix", "nodes"),
    *((group, "address6", "nodes6") for group in ("routers", "reflectors", "nodes")),
    ("nodes", "pod_subnet6", "pods6"),
    ("services", "prefix6", "nodes6"),
)


def check(fabric: Fabric) -> Iterator[Diagnostic]:
    spec = fabric.spec
    if spec.networks.nodes is None and spec.networks.nodes6 is None:
        yield finding(
            "LB128",
            ("spec", "networks"),
            "no node network is given",
            "give networks.nodes and pods (IPv4), nodes6 and pods6 (IPv6-only), or all four "
            "(dual-stack)",
        )
        return
    yield from _pairs(spec)
    yield from _session_addresses(spec)
    yield from _without_network(spec)
    yield from _dual_stack_next_hops(spec)
    for index, service in enumerate(spec.services):
        if service.prefix is None and service.prefix6 is None:
            yield finding(
                "LB128",
                ("spec", "services", index),
                f"service {service.name} announces no prefix",
                "give its prefix (IPv4), prefix6 (IPv6), or both (dual-stack)",
            )


def _pairs(spec: FabricSpec) -> Iterator[Diagnostic]:
    """A family has a node and a pod network."""
    nets = spec.networks
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
    field = session_field(spec)
    over = "over IPv4" if session_version(spec) == 4 else "over IPv6 (an IPv6-only cluster)"
    network = "networks.nodes" if field == "address" else "networks.nodes6"
    for group, index, box in spec.boxes():
        if getattr(box, field) is None:
            yield finding(
                "LB128",
                ("spec", group, index),
                f"{group[:-1]} {box.name} has no {field}: the BGP sessions run {over}",
                f"give its {field} in {network}",
            )


def _without_network(spec: FabricSpec) -> Iterator[Diagnostic]:
    """An address, subnet or prefix of a family the cluster has no network of."""
    nets = spec.networks
    for group, field, network in PLACED_IN:
        if getattr(nets, network) is not None:
            continue
        family = "IPv6" if network.endswith("6") else "IPv4"
        for index, item in enumerate(getattr(spec, group)):
            if getattr(item, field) is not None:
                name = to_camel(field)
                yield finding(
                    "LB128",
                    ("spec", group, index, name),
                    f"{name} is given but networks.{network} is not",
                    f"give networks.{network}, the {family} prefix this is part of, or drop it",
                )


def _dual_stack_next_hops(spec: FabricSpec) -> Iterator[Diagnostic]:
    """IPv6 routes over IPv4 sessions: the boxes on their way need an address6. (In an
    IPv6-only cluster every box has one already: _session_addresses.)"""
    if session_version(spec) != 4 or spec.networks.nodes6 is None:
        return  # without nodes6, a prefix6 is reported by _without_network
    dual = [(i, s) for i, s in enumerate(spec.services) if s.prefix6 is not None]
    names = [node.name for node in spec.nodes]
    eligible = Eligibility(spec.nodes)
    for index, service in dual:
        for node in eligible(service):
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
        implementation = REFLECTORS[reflector.implementation]
        needs = implementation.takes.address6
        if needs is not None and reflector.address6 is None:
            yield finding(
                "LB128",
                ("spec", "reflectors", index, "address"),
                f"{implementation.daemon} reflector {reflector.name} has no address6 but the "
                f"fabric has dual-stack services: {needs}",
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
