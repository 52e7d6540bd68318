"""gobgpd.yaml for route reflectors (and for routers of the paper's gobgpd + zebra flavour),
built as data in the shape of gobgpd's config and serialised, never templated."""

from __future__ import annotations

from typing import Any

from lbgen.plan import ReflectorPlan, RouterPlan, Timers
from lbgen.render.text import generated_by
from lbgen.render.yamldoc import dump_yaml

FAMILY = "ipv4-unicast"
SERVICES_SET = "lbgen-services"
LB_PEERS = "lbgen-lbs"
IMPORT_POLICY = "lbgen-import"


def render_reflector_gobgpd(rr: ReflectorPlan, source: str) -> str:
    cluster = {"route-reflector-client": True, "route-reflector-cluster-id": str(rr.cluster_id)}
    data: dict[str, Any] = {
        "global": _global(rr.asn, str(rr.router_id)),
        "defined-sets": _defined_sets(rr.service_prefixes, lb_range=str(rr.pod_range)),
        "policy-definitions": _import_policy(
            rr.service_prefixes,
            "accept-lb-service-routes",
            {
                "match-neighbor-set": {"neighbor-set": LB_PEERS, "match-set-options": "any"},
                "bgp-conditions": {"next-hop-in-list": [str(rr.node_network)]},
            },
        ),
        "peer-groups": [
            {
                "config": {"peer-group-name": LB_PEERS, "peer-as": rr.asn},
                "timers": _timers(rr.timers),
                # LB pods dial in from addresses nobody knows in advance
                "transport": {"config": {"passive-mode": True}},
                "route-reflector": {"config": cluster},
                "afi-safis": [
                    {
                        "config": {"afi-safi-name": FAMILY},
                        "prefix-limit": {"config": {"max-prefixes": rr.max_prefixes_per_lb}},
                    }
                ],
            }
        ],
        "dynamic-neighbors": [{"config": {"prefix": str(rr.pod_range), "peer-group": LB_PEERS}}],
        "neighbors": [
            {
                "config": {
                    "neighbor-address": str(router.address),
                    "peer-as": rr.asn,
                    "description": f"router {router.name}",
                },
                "timers": _timers(rr.timers),
                "route-reflector": {"config": cluster},
                "afi-safis": [
                    {
                        "config": {"afi-safi-name": FAMILY},
                        "add-paths": {"config": {"send-max": rr.add_paths_send_max}},
                    }
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
        "global": _global(router.asn, str(router.router_id)),
        "defined-sets": _defined_sets(router.service_prefixes, lb_range=None),
        "policy-definitions": _import_policy(router.service_prefixes, "accept-service-routes", {}),
        "neighbors": [
            {
                "config": {
                    "neighbor-address": str(rr.address),
                    "peer-as": router.asn,
                    "description": f"reflector {rr.name}",
                },
                "timers": _timers(router.timers),
                "afi-safis": [
                    {
                        "config": {"afi-safi-name": FAMILY},
                        "add-paths": {"config": {"receive": True}},
                    }
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


def _global(asn: int, router_id: str) -> dict[str, Any]:
    return {
        "config": {"as": asn, "router-id": router_id, "local-address-list": ["0.0.0.0"]},  # noqa: S104 -- IPv4 only, as the paper
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


def _defined_sets(prefixes: tuple[Any, ...], lb_range: str | None) -> dict[str, Any]:
    sets: dict[str, Any] = {}
    if prefixes:
        sets["prefix-sets"] = [
            {
                "prefix-set-name": SERVICES_SET,
                "prefix-list": [
                    # exact: a more-specific of a service prefix is a hijack, not a service
                    {"ip-prefix": str(p), "masklength-range": f"{p.prefixlen}..{p.prefixlen}"}
                    for p in prefixes
                ],
            }
        ]
    if lb_range is not None:
        sets["neighbor-sets"] = [{"neighbor-set-name": LB_PEERS, "neighbor-info-list": [lb_range]}]
    return sets


def _import_policy(
    prefixes: tuple[Any, ...], statement: str, conditions: dict[str, Any]
) -> list[dict[str, Any]]:
    statements = []
    if prefixes:
        statements.append(
            {
                "name": statement,
                "conditions": {
                    "match-prefix-set": {"prefix-set": SERVICES_SET, "match-set-options": "any"},
                    **conditions,
                },
                "actions": {"route-disposition": "accept-route"},
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
