"""Which routes the node should hold, which it holds, and the `ip` commands between the two.

Only the plan decides a prefix (node-agent.json: service → prefix); a pod's annotation decides
nothing. Only this fabric's prefixes are ever added or pruned, so two fabrics' agents on one
node leave each other's routes alone; a prefix that is a default route or overlaps the node or
pod network is never routed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from typing import Any

from lbgen.plan import AgentConfig

# the routing protocol number lbgen's routes carry, so the agent finds only its own kind
ROUTE_PROTO = "249"
SERVICE_LABEL = "lbgen.io/service"

Network = IPv4Network | IPv6Network
Address = IPv4Address | IPv6Address
Routes = dict[Network, Address]


def _by_family(routes: Mapping[Network, Address]) -> Routes:
    return dict(sorted(routes.items(), key=lambda item: (item[0].version, str(item[0]))))


@dataclass(frozen=True)
class Allowed:
    """The routes this agent may own: service → prefix (and → its IPv6 prefix, dual-stack), from
    the plan, minus any a node must never be given (checked again here: the config is a file
    on the node)."""

    prefixes: Mapping[str, IPv4Network]
    prefixes6: Mapping[str, IPv6Network] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: AgentConfig) -> Allowed:
        nets4 = [n for n in (config.node_network, config.pod_network) if n is not None]
        safe = {
            service: prefix
            for service, prefix in config.prefixes
            if prefix.prefixlen > 0 and nets4 and not any(prefix.overlaps(n) for n in nets4)
        }
        nets6 = [n for n in (config.node_network6, config.pod_network6) if n is not None]
        safe6 = {
            service: prefix
            for service, prefix in config.prefixes6
            if prefix.prefixlen > 0 and nets6 and not any(prefix.overlaps(n) for n in nets6)
        }
        return cls(safe, safe6)

    @property
    def owned(self) -> set[Network]:
        return {*self.prefixes.values(), *self.prefixes6.values()}


def desired_routes(
    pods: Iterable[Mapping[str, Any]], node: str, allowed: Allowed
) -> tuple[Routes, int]:
    """prefix → pod IP for every running LB pod of a known service on `node`, and how many pods
    were refused (an unknown service, no or a bad IP). A terminating pod keeps its route: its
    flows drain through it after the BGP route is withdrawn."""
    chosen: dict[Network, tuple[str, Address]] = {}
    refused = 0
    for pod in pods:
        meta, spec, status = (pod.get(k) or {} for k in ("metadata", "spec", "status"))
        if not all(isinstance(part, dict) for part in (meta, spec, status)):
            refused += 1
            continue
        if spec.get("nodeName") != node or status.get("phase") != "Running":
            continue
        labels = meta.get("labels")
        service = str(labels.get(SERVICE_LABEL) if isinstance(labels, dict) else None)
        wanted = [
            (network, version)
            for network, version in (
                (allowed.prefixes.get(service), 4),
                (allowed.prefixes6.get(service), 6),
            )
            if network is not None
        ]
        found = [
            (network, address)
            for network, version in wanted
            if (address := _pod_ip(status, version)) is not None
        ]
        # an unknown service, or a pod without an address of each of its families (a
        # dual-stack one keeps the route it can have)
        if not wanted or len(found) < len(wanted):
            refused += 1
        name = str(meta.get("name", ""))
        for prefix, via in found:
            # one LB per service and node; should two claim it, the choice is stable
            if prefix not in chosen or name < chosen[prefix][0]:
                chosen[prefix] = (name, via)
    return _by_family({network: address for network, (_, address) in chosen.items()}), refused


def _pod_ip(status: Mapping[str, Any], version: int) -> Address | None:
    """The pod's address of one family (status.podIP, status.podIPs of a dual-stack pod), if
    it has exactly one."""
    listed = status.get("podIPs")
    texts = [status.get("podIP")]
    texts += (
        [e.get("ip") for e in listed if isinstance(e, dict)] if isinstance(listed, list) else []
    )
    found = set()
    for text in texts:
        try:
            parsed = ip_address(text) if isinstance(text, str) and "%" not in text else None
        except ValueError:
            parsed = None
        if parsed is not None and parsed.version == version:
            found.add(parsed)
    return found.pop() if len(found) == 1 else None


def installed_routes(ip_json: list[Mapping[str, Any]], allowed: Allowed) -> Routes:
    """From `ip -j route show proto 249` (and `ip -6 …`): this fabric's routes only."""
    routes: Routes = {}
    owned = allowed.owned
    for route in ip_json:
        dst, gateway = route.get("dst"), route.get("gateway")
        if dst and gateway:
            try:
                network, via = ip_network(dst), ip_address(gateway)
            except ValueError:
                continue
            if network in owned:
                routes[network] = via
    return routes


def route_commands(installed: Routes, desired: Routes) -> list[list[str]]:
    commands = [
        ["ip", "route", "replace", str(prefix), "via", str(address), "proto", ROUTE_PROTO]
        for prefix, address in desired.items()
        if installed.get(prefix) != address
    ]
    commands += [
        ["ip", "route", "del", str(prefix), "proto", ROUTE_PROTO]
        for prefix in _by_family(installed)
        if prefix not in desired
    ]
    return commands
