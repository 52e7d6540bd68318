"""Which routes the node should hold, which it holds, and the `ip` commands between the two."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from ipaddress import IPv4Address, IPv4Network
from typing import Any

# the routing protocol number lbgen's routes carry, so the agent finds and prunes only its own
ROUTE_PROTO = "249"
PREFIX_ANNOTATION = "lbgen.io/prefix"

Routes = dict[IPv4Network, IPv4Address]


def desired_routes(pods: Iterable[Mapping[str, Any]], node: str) -> Routes:
    """prefix → pod IP for every LB pod running on `node`. A terminating pod keeps its route:
    its flows drain through it after the BGP route is withdrawn."""
    chosen: dict[IPv4Network, tuple[str, IPv4Address]] = {}
    for pod in pods:
        meta, spec, status = pod.get("metadata", {}), pod.get("spec", {}), pod.get("status", {})
        prefix = (meta.get("annotations") or {}).get(PREFIX_ANNOTATION)
        pod_ip = status.get("podIP")
        if spec.get("nodeName") != node or status.get("phase") != "Running":
            continue
        if not prefix or not pod_ip:
            continue
        try:
            network, address = IPv4Network(prefix), IPv4Address(pod_ip)
        except ValueError:
            continue
        name = str(meta.get("name", ""))
        # one LB per service and node; should two claim it, the choice is stable
        if network not in chosen or name < chosen[network][0]:
            chosen[network] = (name, address)
    return {network: address for network, (_, address) in sorted(chosen.items())}


def installed_routes(ip_json: list[Mapping[str, Any]]) -> Routes:
    """From `ip -j route show proto 249`."""
    routes: Routes = {}
    for route in ip_json:
        dst, gateway = route.get("dst"), route.get("gateway")
        if dst and gateway:
            routes[IPv4Network(dst)] = IPv4Address(gateway)
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
