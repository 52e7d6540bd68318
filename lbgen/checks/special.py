"""LB127: addresses and prefixes in the special-purpose ranges no router forwards as unicast
(IANA's IPv4 and IPv6 special-purpose registries): a fabric built on them cannot carry
traffic. Documentation ranges stay allowed (the examples use them)."""

from __future__ import annotations

from collections.abc import Iterator
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_network

from lbgen.diagnostics import Diagnostic, SpecPath, finding
from lbgen.spec import Fabric

SPECIAL: tuple[tuple[IPv4Network | IPv6Network, str], ...] = (
    (IPv4Network("0.0.0.0/8"), "'this network' (RFC 1122)"),
    (IPv4Network("127.0.0.0/8"), "loopback (RFC 1122)"),
    (IPv4Network("169.254.0.0/16"), "link-local (RFC 3927)"),
    (IPv4Network("224.0.0.0/4"), "multicast (RFC 5771)"),
    (IPv4Network("240.0.0.0/4"), "reserved, with the limited broadcast (RFC 1112, RFC 919)"),
    (IPv6Network("::/128"), "the unspecified address (RFC 4291)"),
    (IPv6Network("::1/128"), "loopback (RFC 4291)"),
    (IPv6Network("::ffff:0:0/96"), "IPv4-mapped (RFC 4291)"),
    (IPv6Network("100::/64"), "discard-only (RFC 6666)"),
    (IPv6Network("fe80::/10"), "link-local (RFC 4291)"),
    (IPv6Network("ff00::/8"), "multicast (RFC 4291)"),
)
# unicast space to use instead, per family
UNICAST = {
    4: "private (RFC 1918), shared (100.64.0.0/10) or your own",
    6: "unique local (fc00::/7) or your global unicast",
}
Placed = IPv4Address | IPv4Network | IPv6Address | IPv6Network


def check(fabric: Fabric) -> Iterator[Diagnostic]:
    for path, value in _placed(fabric):
        net = ip_network(value)  # an address: its /32 or /128
        for block, meaning in SPECIAL:
            if block.version == net.version and net.overlaps(block):
                inside = "is in" if net.subnet_of(block) else "overlaps"  # type: ignore[arg-type]
                yield finding(
                    "LB127",
                    path,
                    f"{value} {inside} {block}, {meaning}: routers do not forward it as unicast",
                    f"use unicast space: {UNICAST[net.version]}",
                )
                break


def _placed(fabric: Fabric) -> Iterator[tuple[SpecPath, Placed]]:
    """Every address and network the fabric routes: networks, boxes, LB ranges, services."""
    spec = fabric.spec
    for name in ("nodes", "pods", "nodes6", "pods6"):
        if getattr(spec.networks, name) is not None:
            yield ("spec", "networks", name), getattr(spec.networks, name)
    for group, index, box in spec.boxes():
        for field in ("address", "address6"):
            if getattr(box, field) is not None:
                yield ("spec", group, index, field), getattr(box, field)
    for index, rr in enumerate(spec.reflectors):
        if rr.pod_range is not None:
            yield ("spec", "reflectors", index, "podRange"), rr.pod_range
    for index, node in enumerate(spec.nodes):
        if node.pod_subnet is not None:
            yield ("spec", "nodes", index, "podSubnet"), node.pod_subnet
        if node.pod_subnet6 is not None:
            yield ("spec", "nodes", index, "podSubnet6"), node.pod_subnet6
    for index, service in enumerate(spec.services):
        for field in ("prefix", "prefix6"):
            if getattr(service, field) is not None:
                yield ("spec", "services", index, field), getattr(service, field)
