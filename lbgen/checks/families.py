"""LB128: a dual-stack fabric is whole. IPv6 service prefixes ride the IPv4 sessions with the
node's IPv6 address as next hop, so a service with a prefix6 needs the IPv6 node and pod
networks, every node that may run one of its LBs an address6, and every router an address6 (it
reaches those next hops on the node network), and so every FRR reflector (it reflects a path only
when it resolves its next hop); and an IPv6 address or subnet needs its network."""

from __future__ import annotations

from collections.abc import Iterator

from lbgen.codes import finding
from lbgen.errors import Diagnostic
from lbgen.spec import Fabric
from lbgen.spec.selection import eligible_nodes


def check(fabric: Fabric) -> Iterator[Diagnostic]:
    spec = fabric.spec
    nets = spec.networks
    for index, service in enumerate(spec.services):
        if service.prefix6 is None:
            continue
        path = ("spec", "services", index, "prefix6")
        for name in ("nodes6", "pods6"):
            if getattr(nets, name) is None:
                yield finding(
                    "LB128",
                    path,
                    f"service {service.name} is dual-stack but networks.{name} is not given",
                    f"give networks.{name}: the IPv6 prefix of the "
                    f"{'node' if name == 'nodes6' else 'pod'} network",
                    ("spec", "networks"),
                )
        names = [node.name for node in spec.nodes]
        for node in eligible_nodes(service, spec.nodes):
            if node.address6 is None:
                yield finding(
                    "LB128",
                    ("spec", "nodes", names.index(node.name), "address"),
                    f"node {node.name} may run an LB of the dual-stack service {service.name} "
                    "but has no address6 (the next hop of its IPv6 prefix)",
                    "give the node's IPv6 address in networks.nodes6, or keep the service's "
                    "LBs off it (loadBalancers.nodes / nodeSelector)",
                    path,
                )
    if any(s.prefix6 is not None for s in spec.services):
        for index, reflector in enumerate(spec.reflectors):
            if reflector.implementation == "frr" and reflector.address6 is None:
                yield finding(
                    "LB128",
                    ("spec", "reflectors", index, "address"),
                    f"FRR reflector {reflector.name} has no address6 but the fabric has "
                    "dual-stack services: FRR reflects an IPv6 path only when it resolves its "
                    "next hop (measured: it sent none)",
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
    for group, field, network in (
        ("routers", "address6", "nodes6"),
        ("reflectors", "address6", "nodes6"),
        ("nodes", "address6", "nodes6"),
        ("nodes", "pod_subnet6", "pods6"),
    ):
        if getattr(nets, network) is not None:
            continue
        for index, box in enumerate(getattr(spec, group)):
            if getattr(box, field) is not None:
                camel = "podSubnet6" if field == "pod_subnet6" else field
                yield finding(
                    "LB128",
                    ("spec", group, index, camel),
                    f"{camel} is given but networks.{network} is not",
                    f"give networks.{network}, the IPv6 prefix this is part of",
                )
