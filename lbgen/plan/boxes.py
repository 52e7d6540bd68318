"""Spec (already checked) → the plans of the BGP boxes: each router and route reflector, its
sessions, and the service groups and next hops it may accept."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

from lbgen.plan.base import PREFIXES_PER_LB
from lbgen.plan.bgp import (
    Peer,
    PrefixGroup,
    ReflectorPlan,
    ResilientPlan,
    RouteGrant,
    RouterPlan,
    Timers,
)
from lbgen.spec import Fabric, FabricSpec, Reflector, Router, Service
from lbgen.spec.boxes import ResilientEcmp
from lbgen.spec.sessions import session_address, session_pod_subnet, session_pods

Carrying = tuple[tuple[PrefixGroup, tuple[str, ...]], ...]  # each group, and the nodes for it


def bgp_boxes(
    fabric: Fabric, timers: Timers, eligible: dict[str, tuple[str, ...]]
) -> tuple[tuple[RouterPlan, ...], tuple[ReflectorPlan, ...]]:
    """The routers' and the reflectors' plans, in name order."""
    spec = fabric.spec
    reflectors = sorted(spec.reflectors, key=lambda r: r.name)
    routers = sorted(spec.routers, key=lambda r: r.name)
    pods = session_pods(spec)
    assert pods is not None, "checked: LB128"
    # a router takes its routes from the reflectors, whatever peer the reflector took them from
    carrying = _groups(fabric, eligible)
    groups = tuple(group for group, _ in carrying)
    router_grants = _grants(fabric, carrying, pods)
    router_plans = tuple(
        RouterPlan(
            name=r.name,
            address=at(spec, r),
            address6=r.address6,
            router_id=_router_id(r.router_id, r.address),
            asn=r.asn or spec.asn,
            fabric_asn=spec.asn,
            implementation=r.implementation,
            max_paths=r.max_paths,
            zebra_version=r.zebra_version,
            zebra_software=r.zebra_software,
            zebra_socket=r.zebra_socket,
            timers=timers,
            # the router's view: its own password file and GTSM on every reflector session
            reflectors=tuple(
                _router_session(rr.name, at(spec, rr), spec.asn, r) for rr in reflectors
            ),
            groups=groups,
            grants=router_grants,
            resilient=resilient_plan(r.resilient_ecmp, spec.kubernetes.drain_seconds),
        )
        for r in routers
    )
    router_peers = tuple(
        _router_session(r.name, at(spec, r), r.asn or spec.asn, r) for r in routers
    )
    all_lbs = sum(s.load_balancers.replicas for s in spec.services)
    most_lbs = max((s.load_balancers.replicas for s in spec.services), default=1)
    reflector_plans = tuple(
        ReflectorPlan(
            name=r.name,
            address=at(spec, r),
            address6=r.address6,
            implementation=r.implementation,
            router_id=_router_id(r.router_id, r.address),
            cluster_id=r.cluster_id or r.address or _router_id(r.router_id, r.address),
            asn=spec.asn,
            timers=timers,
            pod_range=r.pod_range or pods,
            routers=router_peers,
            add_paths_send_max=most_lbs,
            max_prefixes_per_lb=PREFIXES_PER_LB,
            groups=groups,
            grants=_grants(fabric, carrying, r.pod_range or pods),
            lb_password_file=r.lb_password.file if r.lb_password else None,
            listen_limit=min(65535, max(100, 2 * all_lbs)),
        )
        for r in reflectors
    )
    return router_plans, reflector_plans


def pins(given: ResilientEcmp | None) -> bool:
    """The router pins a leaving LB's flows to it (only lbgen router-fib can)."""
    return given is not None and given.by_router_fib


def resilient_plan(given: ResilientEcmp | None, drain_seconds: int) -> ResilientPlan | None:
    """A router's resilientEcmp as planned: the same fields (`via` by its current name), and
    through router-fib, a leaving LB's flows pinned to it for as long as its pod drains."""
    if given is None:
        return None
    pin = drain_seconds if pins(given) else 0
    via = "router-fib" if given.by_router_fib else given.via
    return ResilientPlan.model_validate({**given.model_dump(), "via": via, "pin_seconds": pin})


def at(spec: FabricSpec, box: Router | Reflector) -> IPv4Address | IPv6Address:
    """Where `box` speaks BGP (checked: it has an address of the sessions' family, LB128)."""
    address = session_address(spec, box)
    assert address is not None, "checked: LB128"
    return address


def _router_id(given: IPv4Address | None, address: IPv4Address | None) -> IPv4Address:
    """The spec's routerId, else the IPv4 address (checked: one of them is given, LB129)."""
    router_id = given or address
    assert router_id is not None, "checked: LB129"
    return router_id


def _router_session(
    name: str, address: IPv4Address | IPv6Address, asn: int, router: Router
) -> Peer:
    """The far end of one of `router`'s sessions, secured as the router's spec says (both ends
    of a router–reflector session read the router's password file and GTSM hops)."""
    return Peer(
        name=name,
        address=address,
        asn=asn,
        password_file=router.password_file,
        ttl_security_hops=router.ttl_security_hops,
    )


def _groups(fabric: Fabric, eligible: dict[str, tuple[str, ...]]) -> Carrying:
    """The services grouped by the nodes that may carry them (what policies list once), each
    group named after its first service, with those nodes."""
    by_nodes: dict[tuple[str, ...], list[Service]] = {}
    for service in sorted(fabric.spec.services, key=lambda s: s.name):
        if eligible[service.name]:
            by_nodes.setdefault(eligible[service.name], []).append(service)
    return tuple(
        sorted(
            (
                (
                    PrefixGroup(
                        name=services[0].name,
                        prefixes=tuple(sorted(s.prefix for s in services if s.prefix)),
                        prefixes6=tuple(sorted(s.prefix6 for s in services if s.prefix6)),
                    ),
                    nodes,
                )
                for nodes, services in by_nodes.items()
            ),
            key=lambda found: found[0].name,
        )
    )


def _grants(
    fabric: Fabric,
    groups: Carrying,
    lb_range: IPv4Network | IPv6Network,
) -> tuple[RouteGrant, ...]:
    """Per node that may run an LB: the groups of service prefixes it may be next hop for, and
    from where (its pod subnet if known, else the range LB peers come from)."""
    spec = fabric.spec
    carried: dict[str, list[PrefixGroup]] = {}
    for group, nodes in groups:
        for name in nodes:
            carried.setdefault(name, []).append(group)
    found = []
    for node in sorted(spec.nodes, key=lambda n: n.name):
        mine = carried.get(node.name, [])
        if not mine:
            continue
        # checked: a node that may carry a service with a prefix6 has an address6
        found.append(
            RouteGrant(
                node=node.name,
                next_hop=node.address if any(g.prefixes for g in mine) else None,
                peers=session_pod_subnet(spec, node) or lb_range,
                groups=tuple(g.name for g in mine),
                next_hop6=node.address6 if any(g.prefixes6 for g in mine) else None,
            )
        )
    return tuple(found)
