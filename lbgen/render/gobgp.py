"""gobgpd.yaml for route reflectors (and for routers of the paper's gobgpd + zebra flavour),
built as data in the shape of gobgpd's config and serialised, never templated."""

from __future__ import annotations

from typing import Any

from lbgen.plan import Granting, ReflectorPlan, RouteGrant, RouterPlan, Timers
from lbgen.plan.base import Family
from lbgen.render.text import generated_by
from lbgen.render.yamldoc import Flow, dump_yaml

FAMILY, FAMILY6 = "ipv4-unicast", "ipv6-unicast"
LB_PEERS = "lbgen-lbs"
IMPORT_POLICY = "lbgen-import"
# LB pods need no routes: a reflector sends routes to its routers only (without it, each of
# 3,000 LB pods got every service's best path, and every new LB's route went out 3,000 times)
EXPORT_POLICY, ROUTERS = "lbgen-export", "lbgen-routers"
# what every accepted route carries, whatever the speaker sent
LOCAL_PREF, MED = 100, "0"
RESET = Flow(
    {
        "set-local-pref": LOCAL_PREF,
        "set-med": MED,
        "set-community": {"options": "replace", "set-community-method": {"communities-list": []}},
    }
)


def families(carried: tuple[Family, ...]) -> tuple[str, ...]:
    """gobgpd's names of the families the sessions carry."""
    return tuple({"ipv4": FAMILY, "ipv6": FAMILY6}[family] for family in carried)


def render_reflector_gobgpd(rr: ReflectorPlan, source: str) -> str:
    cluster = {"route-reflector-client": True, "route-reflector-cluster-id": str(rr.cluster_id)}
    data: dict[str, Any] = {
        "global": _global(rr.asn, str(rr.router_id), rr.address.version, export=True),
        "defined-sets": _reflector_sets(rr),
        "policy-definitions": _import_policy(rr, from_peers=True) + _export_policy(),
        "peer-groups": [
            {
                "config": {"peer-group-name": LB_PEERS, "peer-as": rr.asn},
                "timers": _timers(rr.timers),
                # LB pods dial in from addresses nobody knows in advance
                "transport": {"config": {"passive-mode": True}},
                "route-reflector": {"config": cluster},
                "afi-safis": [
                    {
                        "config": {"afi-safi-name": family},
                        "prefix-limit": {"config": {"max-prefixes": rr.max_prefixes_per_lb}},
                    }
                    for family in families(rr.families)
                ],
            }
        ],
        "dynamic-neighbors": [{"config": {"prefix": str(rr.pod_range), "peer-group": LB_PEERS}}],
        "neighbors": [
            {
                "config": {
                    "neighbor-address": str(router.address),
                    "peer-as": router.asn,
                    "description": f"router {router.name}",
                },
                "timers": _timers(rr.timers),
                "route-reflector": {"config": cluster},
                "afi-safis": [
                    {
                        "config": {"afi-safi-name": family},
                        "add-paths": {"config": {"send-max": rr.add_paths_send_max}},
                    }
                    for family in families(rr.families)
                ],
            }
            for router in rr.routers
        ],
    }
    return dump_yaml(data, f"{generated_by(source)}\nroute reflector {rr.name}")


def render_router_gobgpd(router: RouterPlan, source: str) -> str:
    zebra: dict[str, Any] = {
        "enabled": True,
        "url": router.zebra_socket,
        "version": router.zebra_version,
        "redistribute-route-type-list": [],
    }
    if router.zebra_software is not None:
        zebra["software-name"] = router.zebra_software
    data: dict[str, Any] = {
        "global": _global(router.asn, str(router.router_id), router.address.version),
        "defined-sets": _defined_sets(router, from_peers=False),
        "policy-definitions": _import_policy(router, from_peers=False),
        "neighbors": [
            {
                "config": {
                    "neighbor-address": str(rr.address),
                    "peer-as": rr.asn,
                    "description": f"reflector {rr.name}",
                },
                "timers": _timers(router.timers),
                "afi-safis": [
                    {
                        "config": {"afi-safi-name": family},
                        "add-paths": {"config": {"receive": True}},
                    }
                    for family in families(router.families)
                ],
            }
            for rr in router.reflectors
        ],
        "zebra": {"config": zebra},
    }
    note = (
        "upstream router " + router.name + " (gobgpd + zebra, the paper's appendix B)\n"
        "gobgpd 3.10 panics against FRR 8.4's zebra (osrg/gobgp#2681): prefer implementation frr"
    )
    return dump_yaml(data, generated_by(source) + "\n" + note)


def _global(asn: int, router_id: str, version: int, *, export: bool = False) -> dict[str, Any]:
    # listen in the sessions' family only (IPv4, as the paper; IPv6 in an IPv6-only cluster)
    listen = "0.0.0.0" if version == 4 else "::"  # noqa: S104 -- BGP listens on the box
    policy: dict[str, Any] = {
        "import-policy-list": [IMPORT_POLICY],
        "default-import-policy": "reject-route",
        "default-export-policy": "accept-route",
    }
    if export:
        # gobgpd's export policy is global; its neighbour condition names the peer sent to
        policy["export-policy-list"] = [EXPORT_POLICY]
        policy["default-export-policy"] = "reject-route"
    return {
        "config": {"as": asn, "router-id": router_id, "local-address-list": [listen]},
        # hand every equal path to the RIB/zebra, not only the best one
        "use-multiple-paths": {"config": {"enabled": True}},
        "apply-policy": {"config": policy},
    }


def _export_policy() -> list[dict[str, Any]]:
    routers = Flow({"neighbor-set": ROUTERS, "match-set-options": "any"})
    statement = {
        "name": "routers-get-every-path",
        "conditions": {"match-neighbor-set": routers},
        "actions": {"route-disposition": "accept-route"},
    }
    # anyone else (the LB pods) is refused by default-export-policy: reject-route
    return [{"name": EXPORT_POLICY, "statements": [statement]}]


def prefix_set(group: str, version: int = 4) -> str:
    return f"lbgen-prefixes{'6' if version == 6 else ''}-{group}"


def neighbor_set(grant: RouteGrant) -> str:
    return f"lbgen-pods-on-{grant.node}"


def _hop(grant: RouteGrant, version: int) -> str | None:
    """gobgpd's next-hop-in-list entry: the node's address as a host network."""
    hop = grant.hop(version)
    return None if hop is None else f"{hop}/{hop.max_prefixlen}"


def _defined_sets(box: Granting, *, from_peers: bool) -> dict[str, Any]:
    sets: dict[str, Any] = {}
    # one family a set (gobgpd refuses a mixed one), each group's listed once
    found = [
        {
            "prefix-set-name": prefix_set(group.name, version),
            "prefix-list": [
                # exact: a more-specific of a service prefix is a hijack, not a service
                {"ip-prefix": str(p), "masklength-range": f"{p.prefixlen}..{p.prefixlen}"}
                for p in group.of(version)
            ],
        }
        for group in box.groups
        for version in (4, 6)
        if group.of(version)
    ]
    if found:
        sets["prefix-sets"] = found
    if box.grants and from_peers:
        sets["neighbor-sets"] = [
            {"neighbor-set-name": neighbor_set(grant), "neighbor-info-list": [str(grant.peers)]}
            for grant in box.grants
        ]
    return sets


def _reflector_sets(rr: ReflectorPlan) -> dict[str, Any]:
    """A reflector's sets, and its routers' addresses: the only peers its export policy serves."""
    sets = _defined_sets(rr, from_peers=True)
    routers = [f"{r.address}/{r.address.max_prefixlen}" for r in rr.routers]
    sets.setdefault("neighbor-sets", []).append(
        {"neighbor-set-name": ROUTERS, "neighbor-info-list": routers}
    )
    return sets


def _statement(
    name: str, group: str, version: int, hops: list[str], peers: str | None
) -> dict[str, Any]:
    # one line each: a reflector has one statement per node and group
    prefixes = Flow({"prefix-set": prefix_set(group, version), "match-set-options": "any"})
    conditions: dict[str, Any] = {"match-prefix-set": prefixes}
    if peers is not None:
        conditions["match-neighbor-set"] = Flow({"neighbor-set": peers, "match-set-options": "any"})
    conditions["bgp-conditions"] = {
        "next-hop-in-list": hops,
        "as-path-length": Flow({"operator": "eq", "value": 0}),
    }
    return {
        "name": name,
        "conditions": conditions,
        "actions": {"route-disposition": "accept-route", "bgp-actions": RESET},
    }


def _per_group(router: Granting) -> list[dict[str, Any]]:
    found = []
    for group, grants in router.carriers():
        for version in (4, 6):
            hops = [h for g in grants if (h := _hop(g, version)) is not None]
            if group.of(version) and hops:
                label = f"lbs{'6' if version == 6 else ''}-{group.name}"
                found.append(_statement(label, group.name, version, hops, None))
    return found


def _per_node(rr: Granting) -> list[dict[str, Any]]:
    found = []
    groups = rr.by_name()
    for grant in rr.grants:
        for name in grant.groups:
            for version in (4, 6):
                hop = _hop(grant, version)
                if groups[name].of(version) and hop is not None:
                    label = f"lbs-via{'6' if version == 6 else ''}-{grant.node}-{name}"
                    found.append(_statement(label, name, version, [hop], neighbor_set(grant)))
    return found


def _import_policy(box: Granting, *, from_peers: bool) -> list[dict[str, Any]]:
    """A group's prefixes, exactly, with a node that may carry it as next hop and an empty AS
    path; LOCAL_PREF, MED and communities are reset, so no speaker can win the best path over
    the LBs or leave the ECMP set. At a reflector one statement per node and group, from a pod
    on that node; at a router one per group, via any of its nodes."""
    statements = _per_node(box) if from_peers else _per_group(box)
    # anything else is refused by default-import-policy: reject-route
    return [{"name": IMPORT_POLICY, "statements": statements}]


def _timers(timers: Timers) -> dict[str, Any]:
    return {
        "config": {
            "hold-time": timers.hold_time,
            "keepalive-interval": timers.keepalive,
            "connect-retry": timers.connect_retry,
        }
    }
