"""EndpointSlices → keepalived pools. Pure: the same slices give the same pools on every LB."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Address
from typing import Any

from lbgen.plan import ServicePlan
from lbgen.render.keepalived import Pools, RealServer

SERVING, DRAINING = 1, 0


@dataclass(frozen=True)
class PoolCounts:
    ready: int
    draining: int


@dataclass(frozen=True)
class Members:
    """What one EndpointSlice contributes: port numbers by name, and (address, weight) pairs."""

    ports: Mapping[str, tuple[str, int]]  # name → (protocol, number)
    endpoints: tuple[tuple[IPv4Address, int], ...]


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


def slice_members(item: Mapping[str, Any]) -> Members:
    if item.get("addressType") != "IPv4":
        return Members({}, ())
    ports = {
        port.get("name") or "": (port.get("protocol") or "TCP", int(port["port"]))
        for port in item.get("ports") or ()
        if port.get("port") is not None
    }
    endpoints = []
    for endpoint in item.get("endpoints") or ():
        weight = _weight(endpoint.get("conditions") or {})
        if weight is not None:
            endpoints += [(IPv4Address(a), weight) for a in endpoint.get("addresses") or ()]
    return Members(ports, tuple(endpoints))


def pools_from_members(members: Iterable[Members], service: ServicePlan) -> Pools:
    """For each target port: one real server per endpoint address, sorted by address, so every
    LB hands IPVS the same list (mh maps a flow to the same backend on every LB)."""
    best: dict[str, dict[IPv4Address, RealServer]] = {p.target_port: {} for p in service.ports}
    protocols = {p.target_port: p.protocol for p in service.ports}
    for part in members:
        for target, chosen in best.items():
            found = part.ports.get(target)
            if found is None or found[0] != protocols[target]:
                continue
            number = found[1]
            for address, weight in part.endpoints:
                # an endpoint seen in two slices (moving between them) counts once, at its
                # better weight
                old = chosen.get(address)
                if old is None or weight > old.weight:
                    chosen[address] = RealServer(address, number, weight)
    return {target: tuple(sorted(servers.values())) for target, servers in best.items()}


def pools_from_slices(slices: Iterable[Mapping[str, Any]], service: ServicePlan) -> Pools:
    return pools_from_members((slice_members(s) for s in slices), service)


@dataclass
class MemberCache:
    """Parses each slice once per resourceVersion: an event re-reads only the slice it changed."""

    parsed: dict[str, tuple[str, Members]] = field(default_factory=dict)

    def members(self, slices: Mapping[str, Mapping[str, Any]]) -> list[Members]:
        result = []
        for key, item in slices.items():
            version = str((item.get("metadata") or {}).get("resourceVersion", ""))
            cached = self.parsed.get(key)
            if cached is None or cached[0] != version or not version:
                cached = (version, slice_members(item))
                self.parsed[key] = cached
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
