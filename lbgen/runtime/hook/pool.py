"""EndpointSlices → keepalived pools. Pure: the same slices give the same pools on every LB.

Slices come from the API and are untrusted: whatever is malformed (an address with leading
zeros or of the other family, `endpoints` that is not a list, `conditions` that is not a
mapping, a port that is not a number) is skipped and named in `Members.skipped`, never fatal.
Ports are resolved as kube-proxy does: by (name, protocol), the unnamed port ("") included."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address
from typing import Any

from lbgen.plan import ServicePlan
from lbgen.render.keepalived import PoolKey, Pools, RealServer, config_order

SERVING, DRAINING = 1, 0
IPV4_ONLY = frozenset({"IPv4"})
PROTOCOLS = ("TCP", "UDP", "SCTP")


@dataclass(frozen=True)
class PoolCounts:
    ready: int
    draining: int


@dataclass(frozen=True)
class Members:
    """What one EndpointSlice contributes: port numbers by (name, protocol), (address, weight)
    pairs, and what was skipped as malformed ("<kind>: <detail>", one each)."""

    ports: Mapping[PoolKey, int]
    endpoints: tuple[tuple[IPv4Address | IPv6Address, int], ...]
    skipped: tuple[str, ...] = ()


@dataclass(frozen=True)
class Pooled:
    """The pools, and which service ports' targets no slice lists (unresolved)."""

    pools: Pools
    unresolved: tuple[PoolKey, ...]


def _weight(conditions: Mapping[str, Any]) -> int | None:
    """1 for ready, 0 for serving-but-terminating (drained, not cut), None for out.
    Per the EndpointSlice API, an unknown `ready` counts as ready, an unknown `terminating`
    as not terminating, and an unknown `serving` as `ready`."""
    ready = conditions.get("ready")
    terminating = conditions.get("terminating") is True
    serving = conditions.get("serving", ready)
    if terminating:
        return DRAINING if serving is not False else None
    return SERVING if ready is not False else None


def _ports(raw: Any, skipped: list[str]) -> dict[PoolKey, int]:
    ports: dict[PoolKey, int] = {}
    if raw is None:
        return ports
    if not isinstance(raw, list):
        skipped.append("malformed-port: ports is not a list")
        return ports
    for port in raw:
        if not isinstance(port, dict):
            skipped.append("malformed-port: a port is not a mapping")
            continue
        name, protocol, number = (
            port.get("name") or "",
            port.get("protocol") or "TCP",
            port.get("port"),
        )
        if number is None:
            continue  # the API's way of saying "all ports": nothing to balance
        if (
            not isinstance(name, str)
            or protocol not in PROTOCOLS
            or isinstance(number, bool)
            or not isinstance(number, int)
            or not 1 <= number <= 65535
        ):
            skipped.append("malformed-port: a name, protocol or number")
            continue
        ports[(name, protocol)] = number
    return ports


def _address(text: Any, family: str, skipped: list[str]) -> IPv4Address | IPv6Address | None:
    if not isinstance(text, str):
        skipped.append("bad-address: not a string")
        return None
    try:
        # IPv4 refuses leading zeros (010.016.001.005), which API servers up to 1.32 accepted
        address = IPv6Address(text) if family == "IPv6" else IPv4Address(text)
    except ValueError:
        skipped.append(f"bad-address: {text[:40]!r} is not an {family} address")
        return None
    if not _a_pod_address(address) or getattr(address, "scope_id", None):
        # a slice anyone with RBAC on EndpointSlices can write: 127.0.0.1 would turn the VIP
        # into the LB pod's own loopback, a multicast, link-local or zoned one into nothing
        skipped.append(f"bad-address: {address} is not a unicast address a backend can hold")
        return None
    return address


def _a_pod_address(address: IPv4Address | IPv6Address) -> bool:
    return not (
        address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_unspecified
        or address.is_reserved
    )


def slice_members(item: Any, families: frozenset[str] = IPV4_ONLY) -> Members:
    """What one slice adds to the pools, if its addressType is one of `families` (IPv4; and
    IPv6 for a dual-stack service); a slice of another family is someone else's."""
    skipped: list[str] = []
    if not isinstance(item, dict):
        return Members({}, (), ("malformed-slice: not a mapping",))
    family = item.get("addressType")
    if family not in families:
        return Members({}, ())
    ports = _ports(item.get("ports"), skipped)
    raw = item.get("endpoints") or []
    if not isinstance(raw, list):
        return Members(ports, (), ("malformed-slice: endpoints is not a list",))
    endpoints = []
    for endpoint in raw:
        conditions = endpoint.get("conditions") if isinstance(endpoint, dict) else None
        addresses = endpoint.get("addresses") if isinstance(endpoint, dict) else None
        if not isinstance(endpoint, dict) or not isinstance(
            {} if conditions is None else conditions, dict
        ):
            skipped.append("malformed-endpoint: it or its conditions is not a mapping")
            continue
        if not isinstance(addresses, list):
            skipped.append("malformed-endpoint: addresses is not a list")
            continue
        weight = _weight(conditions or {})
        if weight is None:
            continue
        for text in addresses:
            address = _address(text, family, skipped)
            if address is not None:
                endpoints.append((address, weight))
    return Members(ports, tuple(endpoints), tuple(skipped))


def pooled(members: Iterable[Members], service: ServicePlan) -> Pooled:
    """For each (target port, protocol): one real server per endpoint address, sorted by
    address, so every LB hands IPVS the same list (mh maps a flow to the same backend on every
    LB). A target no slice with endpoints lists is unresolved: the caller keeps the old pool
    rather than empty it."""
    wanted = {(p.target_port, p.protocol) for p in service.ports}
    best: dict[PoolKey, dict[IPv4Address | IPv6Address, RealServer]] = {key: {} for key in wanted}
    listed: set[PoolKey] = set()
    any_endpoint = False
    for part in members:
        any_endpoint |= bool(part.endpoints)
        for key, chosen in best.items():
            number = part.ports.get(key)
            if number is None:
                continue
            listed.add(key)
            for address, weight in part.endpoints:
                # an endpoint seen in two slices (moving between them) counts once, at its
                # better weight
                old = chosen.get(address)
                if old is None or weight > old.weight:
                    chosen[address] = RealServer(address, number, weight)
    unresolved = tuple(sorted(wanted - listed)) if any_endpoint else ()
    pools = {key: tuple(config_order(servers.values())) for key, servers in best.items()}
    return Pooled(pools, unresolved)


def pools_from_members(members: Iterable[Members], service: ServicePlan) -> Pools:
    return pooled(members, service).pools


def pools_from_slices(slices: Iterable[Any], service: ServicePlan) -> Pools:
    families = families_of(service)
    return pools_from_members((slice_members(s, families) for s in slices), service)


def families_of(service: ServicePlan) -> frozenset[str]:
    """The EndpointSlice address types a service's pools take: those of its VIPs."""
    return frozenset(service.ip_families)


@dataclass
class MemberCache:
    """Parses each slice once per resourceVersion: an event re-reads only the slice it changed.
    `fresh_skips` holds what the parses of the last call skipped (count each slice once)."""

    parsed: dict[str, tuple[str, Members]] = field(default_factory=dict)
    fresh_skips: list[str] = field(default_factory=list)
    families: frozenset[str] = IPV4_ONLY

    def members(self, slices: Mapping[str, Any]) -> list[Members]:
        result = []
        self.fresh_skips = []
        for key, item in slices.items():
            meta = item.get("metadata") if isinstance(item, dict) else None
            version = str((meta if isinstance(meta, dict) else {}).get("resourceVersion", ""))
            cached = self.parsed.get(key)
            if cached is None or cached[0] != version or not version:
                cached = (version, slice_members(item, self.families))
                self.parsed[key] = cached
                self.fresh_skips += cached[1].skipped
            result.append(cached[1])
        for gone in set(self.parsed) - set(slices):
            del self.parsed[gone]
        return result


def count(pools: Pools) -> PoolCounts:
    unique = {rs for servers in pools.values() for rs in servers}
    return PoolCounts(
        ready=sum(rs.weight > 0 for rs in unique),
        draining=sum(rs.weight == 0 for rs in unique),
    )
