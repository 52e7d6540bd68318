"""LB127: addresses and prefixes in the special-purpose ranges no router forwards as unicast
(IANA's IPv4 and IPv6 special-purpose registries): a fabric built on them cannot carry
traffic. Documentation ranges stay allowed (the examples use them)."""

from __future__ import annotations

from collections.abc import Iterator
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

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
SPECIAL6 = (
    (IPv6Network("::/128"), "the unspecified address (RFC 4291)"),
    (IPv6Network("::1/128"), "loopback (RFC 4291)"),
    (IPv6Network("::ffff:0:0/96"), "IPv4-mapped (RFC 4291)"),
    (IPv6Network("100::/64"), "discard-only (RFC 6666)"),
    (IPv6Network("fe80::/10"), "link-local (RFC 4291)"),
    (IPv6Network("ff00::/8"), "multicast (RFC 4291)"),
)
Placed = IPv4Address | IPv4Network | IPv6Address | IPv6Network


def check(fabric: Fabric) -> Iterator[Diagnostic]:
    for path, value in _placed(fabric):
        found = _block(value)
        if found is not None:
            block, meaning, inside, use = found
            yield finding(
                "LB127",
                path,
                f"{value} {'is in' if inside else 'overlaps'} {block}, {meaning}: routers do "
                "not forward it as unicast",
                f"use unicast space: {use}",
            )


def _block(value: Placed) -> tuple[str, str, bool, str] | None:
    """The special-purpose block `value` touches: (block, meaning, wholly inside, what to use)."""
    if isinstance(value, IPv4Address | IPv4Network):
        net4 = IPv4Network(value) if isinstance(value, IPv4Address) else value
        for block4, meaning in SPECIAL:
            if net4.overlaps(block4):
                use = "private (RFC 1918), shared (100.64.0.0/10) or your own"
                return str(block4), meaning, net4.subnet_of(block4), use
        return None
    net6 = IPv6Network(value) if isinstance(value, IPv6Address) else value
    for block6, meaning in SPECIAL6:
        if net6.overlaps(block6):
            use = "unique local (fc00::/7) or your global unicast"
            return str(block6), meaning, net6.subnet_of(block6), use
    return None


def _placed(fabric: Fabric) -> Iterator[tuple[SpecPath, Placed]]:
    """Every address and network the fabric routes: networks, boxes, LB ranges, services."""
    spec = fabric.spec
    for name in ("nodes", "pods", "nodes6", "pods6"):
        if getattr(spec.networks, name) is not None:
            yield ("spec", "networks", name), getattr(spec.networks, name)
    for group in ("routers", "reflectors", "nodes"):
        for index, box in enumerate(getattr(spec, group)):
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
