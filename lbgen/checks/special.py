"""LB127: addresses and prefixes in the special-purpose ranges no router forwards as unicast
(IANA's IPv4 special-purpose registry): a fabric built on them cannot carry traffic."""

from __future__ import annotations

from collections.abc import Iterator
from ipaddress import IPv4Address, IPv4Network

from lbgen.codes import finding
from lbgen.errors import Diagnostic, SpecPath
from lbgen.spec import Fabric

SPECIAL = (
    (IPv4Network("0.0.0.0/8"), "'this network' (RFC 1122)"),
    (IPv4Network("127.0.0.0/8"), "loopback (RFC 1122)"),
    (IPv4Network("169.254.0.0/16"), "link-local (RFC 3927)"),
    (IPv4Network("224.0.0.0/4"), "multicast (RFC 5771)"),
    (IPv4Network("240.0.0.0/4"), "reserved, with the limited broadcast (RFC 1112, RFC 919)"),
)


def check(fabric: Fabric) -> Iterator[Diagnostic]:
    for path, value in _placed(fabric):
        net = IPv4Network(value) if isinstance(value, IPv4Address) else value
        for block, meaning in SPECIAL:
            if net.overlaps(block):
                inside = "is in" if net.subnet_of(block) else "overlaps"
                yield finding(
                    "LB127",
                    path,
                    f"{value} {inside} {block}, {meaning}: routers do not forward it as unicast",
                    "use unicast space: private (RFC 1918), shared (100.64.0.0/10) or your own",
                )
                break


def _placed(fabric: Fabric) -> Iterator[tuple[SpecPath, IPv4Address | IPv4Network]]:
    """Every address and network the fabric routes: networks, boxes, LB ranges, services."""
    spec = fabric.spec
    yield ("spec", "networks", "nodes"), spec.networks.nodes
    yield ("spec", "networks", "pods"), spec.networks.pods
    for group in ("routers", "reflectors", "nodes"):
        for index, box in enumerate(getattr(spec, group)):
            yield ("spec", group, index, "address"), box.address
    for index, rr in enumerate(spec.reflectors):
        if rr.pod_range is not None:
            yield ("spec", "reflectors", index, "podRange"), rr.pod_range
    for index, node in enumerate(spec.nodes):
        if node.pod_subnet is not None:
            yield ("spec", "nodes", index, "podSubnet"), node.pod_subnet
    for index, service in enumerate(spec.services):
        yield ("spec", "services", index, "prefix"), service.prefix
