"""Which routes the node should hold, which it holds, and the `ip` commands between the two.

Only the plan decides a prefix (node-agent.json: service → prefix); a pod's annotation decides
nothing. Only this fabric's prefixes are ever added or pruned, so two fabrics' agents on one
node leave each other's routes alone; a prefix that is a default route or overlaps the node or
pod network is never routed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from typing import Any

from lbgen.plan import AgentConfig

# the routing protocol number lbgen's routes carry, so the agent finds only its own kind
ROUTE_PROTO = "249"
SERVICE_LABEL = "lbgen.io/service"

Routes = dict[IPv4Network, IPv4Address]


@dataclass(frozen=True)
class Allowed:
    """The routes this agent may own: service → prefix, from the plan, minus any a node must
    never be given (checked again here: the config is a file on the node)."""

    prefixes: Mapping[str, IPv4Network]

    @classmethod
    def from_config(cls, config: AgentConfig) -> Allowed:
        safe = {
            service: prefix
            for service, prefix in config.prefixes
            if prefix.prefixlen > 0
            and not prefix.overlaps(config.node_network)
            and not prefix.overlaps(config.pod_network)
        }
        return cls(safe)

    @property
    def owned(self) -> set[IPv4Network]:
        return set(self.prefixes.values())


def desired_routes(
    pods: Iterable[Mapping[str, Any]], node: str, allowed: Allowed
) -> tuple[Routes, int]:
    """prefix → pod IP for every running LB pod of a known service on `node`, and how many pods
    were refused (an unknown service, no or a bad IP). A terminating pod keeps its route: its
    flows drain through it after the BGP route is withdrawn."""
    chosen: dict[IPv4Network, tuple[str, IPv4Address]] = {}
    refused = 0
    for pod in pods:
        meta, spec, status = (pod.get(k) or {} for k in ("metadata", "spec", "status"))
        if not all(isinstance(part, dict) for part in (meta, spec, status)):
            refused += 1
            continue
        if spec.get("nodeName") != node or status.get("phase") != "Running":
            continue
        labels = meta.get("labels")
        service = labels.get(SERVICE_LABEL) if isinstance(labels, dict) else None
        network = allowed.prefixes.get(str(service))
        try:
            address = IPv4Address(status.get("podIP", ""))
        except ValueError:
            address = None
        if network is None or address is None:
            refused += 1
            continue
        name = str(meta.get("name", ""))
        # one LB per service and node; should two claim it, the choice is stable
        if network not in chosen or name < chosen[network][0]:
            chosen[network] = (name, address)
    return {network: address for network, (_, address) in sorted(chosen.items())}, refused


def installed_routes(ip_json: list[Mapping[str, Any]], allowed: Allowed) -> Routes:
    """From `ip -j route show proto 249`: this fabric's routes only."""
    routes: Routes = {}
    owned = allowed.owned
    for route in ip_json:
        dst, gateway = route.get("dst"), route.get("gateway")
        if dst and gateway:
            try:
                network = IPv4Network(dst)
            except ValueError:
                continue
            if network in owned:
                routes[network] = IPv4Address(gateway)
    return routes


def route_commands(installed: Routes, desired: Routes) -> list[list[str]]:
    commands = [
        ["ip", "route", "replace", str(prefix), "via", str(address), "proto", ROUTE_PROTO]
        for prefix, address in desired.items()
        if installed.get(prefix) != address
    ]
    commands += [
        ["ip", "route", "del", str(prefix), "proto", ROUTE_PROTO]
        for prefix in sorted(installed)
        if prefix not in desired
    ]
    return commands
