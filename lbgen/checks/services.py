"""LB103–LB105, LB113, LB117, LB118: the services' own addresses: prefixes that collide with
each other or with the node and pod networks, VIPs outside their prefixes, and ports."""

from __future__ import annotations

from collections.abc import Iterator
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import TypeVar

from lbgen.diagnostics import Diagnostic, SpecPath, finding
from lbgen.spec import Fabric

Address = IPv4Address | IPv6Address


def check(fabric: Fabric) -> Iterator[Diagnostic]:
    yield from _service_prefixes(fabric)
    yield from _vips(fabric)
    yield from _ports(fabric)


def _service_prefixes(fabric: Fabric) -> Iterator[Diagnostic]:
    spec = fabric.spec
    nets = spec.networks
    given4 = [(i, s.prefix) for i, s in enumerate(spec.services) if s.prefix is not None]
    given6 = [(i, s.prefix6) for i, s in enumerate(spec.services) if s.prefix6 is not None]
    yield from _prefix_overlaps(given4, "prefix")
    yield from _prefix_overlaps(given6, "prefix6")
    for field, networks in (
        ("prefix", (("nodes", nets.nodes), ("pods", nets.pods))),
        ("prefix6", (("nodes6", nets.nodes6), ("pods6", nets.pods6))),
    ):
        given: list[tuple[int, IPv4Network | IPv6Network]] = (
            [*given4] if field == "prefix" else [*given6]
        )
        for index, prefix in given:
            for net_name, net in networks:
                if net is not None and prefix.overlaps(net):
                    yield finding(
                        "LB105",
                        ("spec", "services", index, field),
                        f"{prefix} overlaps networks.{net_name} {net}",
                        "announce a prefix outside the node and pod networks",
                        ("spec", "networks", net_name),
                    )


Net = TypeVar("Net", IPv4Network, IPv6Network)


def _prefix_overlaps(given: list[tuple[int, Net]], field: str) -> Iterator[Diagnostic]:
    # sorted by start, a prefix overlaps an earlier one iff it starts before the furthest end
    ordered = sorted(given, key=lambda item: (item[1].network_address, item[0]))
    furthest: tuple[Net, int] | None = None
    for index, prefix in ordered:
        if furthest is not None and prefix.network_address <= furthest[0].broadcast_address:
            other = furthest[1]
            yield finding(
                "LB104",
                ("spec", "services", index, field),
                f"{prefix} overlaps services[{other}].{field} {furthest[0]}",
                "give each service its own, non-overlapping prefix",
                ("spec", "services", other, field),
            )
        if furthest is None or prefix.broadcast_address > furthest[0].broadcast_address:
            furthest = (prefix, index)


def _vips(fabric: Fabric) -> Iterator[Diagnostic]:
    for index, service in enumerate(fabric.spec.services):
        if service.vips is None:
            continue
        seen: dict[Address, int] = {}
        for position, vip in enumerate(service.vips):
            path: SpecPath = ("spec", "services", index, "vips", position)
            field = "prefix" if vip.version == 4 else "prefix6"
            prefix = service.prefix if vip.version == 4 else service.prefix6
            if prefix is None:
                yield finding(
                    "LB103",
                    path,
                    f"VIP {vip} is IPv{vip.version} but the service has no {field}",
                    f"give the service its IPv{vip.version} prefix ({field}), or drop the VIP",
                )
            elif vip not in prefix:
                yield finding(
                    "LB103",
                    path,
                    f"VIP {vip} is outside the service {field} {prefix}",
                    f"use an address inside {prefix}, or change the {field}",
                    ("spec", "services", index, field),
                )
            elif (
                prefix.version == 4
                and prefix.prefixlen < 31
                and vip
                in (
                    prefix.network_address,
                    prefix.broadcast_address,
                )
            ):
                yield finding(
                    "LB118",
                    path,
                    f"VIP {vip} is the network or broadcast address of {prefix}",
                    "some clients and middleboxes drop such addresses; use a host address",
                )
            if vip in seen:
                yield finding(
                    "LB117",
                    path,
                    f"VIP {vip} is listed twice",
                    "list each VIP once",
                    ("spec", "services", index, "vips", seen[vip]),
                )
            else:
                seen[vip] = position


def _ports(fabric: Fabric) -> Iterator[Diagnostic]:
    for index, service in enumerate(fabric.spec.services):
        seen: dict[tuple[int, str], int] = {}
        for position, port in enumerate(service.ports):
            key = (port.port, port.protocol)
            if key in seen:
                yield finding(
                    "LB113",
                    ("spec", "services", index, "ports", position, "port"),
                    f"{port.protocol} port {port.port} is already served on the same VIPs by "
                    f"ports[{seen[key]}]",
                    "each port and protocol may appear once per service",
                    ("spec", "services", index, "ports", seen[key], "port"),
                )
            else:
                seen[key] = position
