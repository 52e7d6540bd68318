"""gobgpd.yaml for route reflectors (and for routers of the paper's gobgpd + zebra flavour),
built as data in the shape of gobgpd's config and serialised, never templated."""

from __future__ import annotations

from typing import Any

from lbgen.plan import ReflectorPlan, RouteGrant, RouterPlan, Timers
from lbgen.plan.model import Family
from lbgen.render.text import generated_by
from lbgen.render.yamldoc import dump_yaml

FAMILY, FAMILY6 = "ipv4-unicast", "ipv6-unicast"
LB_PEERS = "lbgen-lbs"
IMPORT_POLICY = "lbgen-import"
# what every accepted route carries, whatever the speaker sent
LOCAL_PREF, MED = 100, "0"
RESET: dict[str, Any] = {
    "set-local-pref": LOCAL_PREF,
    "set-med": MED,
    "set-community": {"options": "replace", "set-community-method": {"communities-list": []}},
}


def families(carried: tuple[Family, ...]) -> tuple[str, ...]:
    """gobgpd's names of the families the sessions carry."""
    return tuple({"ipv4": FAMILY, "ipv6": FAMILY6}[family] for family in carried)


def render_reflector_gobgpd(rr: ReflectorPlan, source: str) -> str:
    cluster = {"route-reflector-client": True, "route-reflector-cluster-id": str(rr.cluster_id)}
    data: dict[str, Any] = {
        "global": _global(rr.asn, str(rr.router_id), rr.address.version),
        "defined-sets": _defined_sets(rr.grants, from_peers=True),
        "policy-definitions": _import_policy(rr.grants, from_peers=True),
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
        "defined-sets": _defined_sets(router.grants, from_peers=False),
        "policy-definitions": _import_policy(router.grants, from_peers=False),
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


def _global(asn: int, router_id: str, version: int) -> dict[str, Any]:
    # listen in the sessions' family only (IPv4, as the paper; IPv6 in an IPv6-only cluster)
    listen = "0.0.0.0" if version == 4 else "::"  # noqa: S104 -- BGP listens on the box
    return {
        "config": {"as": asn, "router-id": router_id, "local-address-list": [listen]},
        # hand every equal path to the RIB/zebra, not only the best one
        "use-multiple-paths": {"config": {"enabled": True}},
        "apply-policy": {
            "config": {
                "import-policy-list": [IMPORT_POLICY],
                "default-import-policy": "reject-route",
                "default-export-policy": "accept-route",
            }
        },
    }


def prefix_set(grant: RouteGrant, version: int = 4) -> str:
    return f"lbgen-via{'6' if version == 6 else ''}-{grant.node}"


def neighbor_set(grant: RouteGrant) -> str:
    return f"lbgen-pods-on-{grant.node}"


def _defined_sets(grants: tuple[RouteGrant, ...], *, from_peers: bool) -> dict[str, Any]:
    sets: dict[str, Any] = {}
    if grants:
        # one family a set (gobgpd refuses a mixed one)
        sets["prefix-sets"] = [
            {
                "prefix-set-name": prefix_set(grant, version),
                "prefix-list": [
                    # exact: a more-specific of a service prefix is a hijack, not a service
                    {"ip-prefix": str(p), "masklength-range": f"{p.prefixlen}..{p.prefixlen}"}
                    for p in prefixes
                ],
            }
            for grant in grants
            for version, prefixes in ((4, grant.prefixes), (6, grant.prefixes6))
            if prefixes
        ]
    if grants and from_peers:
        sets["neighbor-sets"] = [
            {"neighbor-set-name": neighbor_set(grant), "neighbor-info-list": [str(grant.peers)]}
            for grant in grants
        ]
    return sets


def _import_policy(grants: tuple[RouteGrant, ...], *, from_peers: bool) -> list[dict[str, Any]]:
    """One statement per node: its services' prefixes, exactly, with it as next hop (and, at a
    reflector, from a pod there), with an empty AS path; LOCAL_PREF, MED and communities are
    reset, so no speaker can win the best path over the LBs or leave the ECMP set."""
    statements = []
    for grant in grants:
        for version, next_hop, prefixes in (
            (4, f"{grant.next_hop}/32", grant.prefixes),
            (6, f"{grant.next_hop6}/128", grant.prefixes6),
        ):
            if not prefixes:
                continue
            conditions: dict[str, Any] = {
                "match-prefix-set": {
                    "prefix-set": prefix_set(grant, version),
                    "match-set-options": "any",
                },
            }
            if from_peers:
                conditions["match-neighbor-set"] = {
                    "neighbor-set": neighbor_set(grant),
                    "match-set-options": "any",
                }
            conditions["bgp-conditions"] = {
                "next-hop-in-list": [next_hop],
                "as-path-length": {"operator": "eq", "value": 0},
            }
            statements.append(
                {
                    "name": f"lbs-via{'6' if version == 6 else ''}-{grant.node}",
                    "conditions": conditions,
                    "actions": {"route-disposition": "accept-route", "bgp-actions": RESET},
                }
            )
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
