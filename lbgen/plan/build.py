"""Spec (already checked) → Plan. Cannot fail: every rule it relies on was checked before."""

from __future__ import annotations

import heapq
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import overload

from lbgen.contract import BGP_PASSWORD_DIR, DEFAULT_RESOURCES
from lbgen.plan.model import (
    PREFIXES_PER_LB,
    AnnouncePlan,
    BackendPlan,
    BgpSecret,
    GitOpsPlan,
    HealthCheckPlan,
    KubePlan,
    MonitoringPlan,
    NodePlan,
    Peer,
    Plan,
    PortPlan,
    PrefixGroup,
    ReflectorPlan,
    ResourcePlan,
    RouteGrant,
    RouterPlan,
    ServicePlan,
    Timers,
)
from lbgen.spec import Fabric, FabricSpec, Reflector, Router, Service
from lbgen.spec.selection import Eligibility
from lbgen.spec.sessions import session_address, session_pod_subnet, session_pods


def build_plan(fabric: Fabric, source: str) -> Plan:
    spec = fabric.spec
    timers = Timers(
        hold_time=spec.bgp.hold_time,
        keepalive=spec.bgp.keepalive,
        connect_retry=spec.bgp.connect_retry,
    )
    reflectors = sorted(spec.reflectors, key=lambda r: r.name)
    pods = session_pods(spec)
    assert pods is not None, "checked: LB128"
    # what an LB pod dials: each reflector, with the password its Secret volume projects
    lb_view = tuple(
        Peer(
            name=r.name,
            address=_at(spec, r),
            asn=spec.asn,
            password_file=str(BGP_PASSWORD_DIR / r.name) if r.lb_password else None,
        )
        for r in reflectors
    )
    secrets = tuple(
        BgpSecret(reflector=r.name, secret=r.lb_password.secret, key=r.lb_password.key)
        for r in reflectors
        if r.lb_password is not None
    )
    router_peers = tuple(
        _router_session(r.name, _at(spec, r), r.asn or spec.asn, r)
        for r in sorted(spec.routers, key=lambda r: r.name)
    )
    services = sorted(spec.services, key=lambda s: s.name)
    eligibility = Eligibility(spec.nodes)
    eligible = {s.name: eligibility.names(s) for s in spec.services}
    placement = _spread(fabric, eligible)
    most_lbs = max((s.load_balancers.replicas for s in spec.services), default=1)
    all_lbs = sum(s.load_balancers.replicas for s in spec.services)
    k8s = spec.kubernetes
    kube = KubePlan(
        namespace=k8s.namespace,
        image=k8s.image,
        image_pull_policy=k8s.image_pull_policy,
        drain_seconds=k8s.drain_seconds,
        metrics_namespace=k8s.metrics_namespace,
        resources=tuple(
            (
                name,
                ResourcePlan(
                    cpu=getattr(k8s.resources, name).cpu or cpu,
                    memory=getattr(k8s.resources, name).memory or memory,
                ),
            )
            for name, (cpu, memory) in sorted(DEFAULT_RESOURCES.items())
        ),
    )
    # a router takes its routes from the reflectors, whatever peer the reflector took them from
    carrying = _groups(fabric, eligible)
    groups = tuple(group for group, _ in carrying)
    router_grants = _grants(fabric, carrying, pods)
    modules = ("ip_vs", *sorted({f"ip_vs_{s.scheduler}" for s in spec.services}))

    return Plan(
        fabric=fabric.metadata.name,
        lb_nodes=tuple(sorted({n for names in eligible.values() for n in names})),
        source=source,
        asn=spec.asn,
        node_network=spec.networks.nodes,
        pod_network=spec.networks.pods,
        node_network6=spec.networks.nodes6,
        pod_network6=spec.networks.pods6,
        timers=timers,
        routers=tuple(
            RouterPlan(
                name=r.name,
                address=_at(spec, r),
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
                    _router_session(rr.name, _at(spec, rr), spec.asn, r) for rr in reflectors
                ),
                groups=groups,
                grants=router_grants,
            )
            for r in sorted(spec.routers, key=lambda r: r.name)
        ),
        reflectors=tuple(
            ReflectorPlan(
                name=r.name,
                address=_at(spec, r),
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
        ),
        nodes=tuple(
            NodePlan(
                name=n.name,
                address=n.address,
                address6=n.address6,
                pod_subnet=n.pod_subnet,
                pod_subnet6=n.pod_subnet6,
                labels=tuple(sorted(n.labels.items())),
                load_balancers=tuple(s.name for s in services if n.name in placement[s.name]),
                ipvs_modules=modules,
                conntrack_max=k8s.conntrack_max,
            )
            for n in sorted(spec.nodes, key=lambda n: n.name)
        ),
        services=tuple(
            _service(
                fabric,
                s,
                placed=placement[s.name],
                timers=timers,
                reflectors=lb_view,
                secrets=secrets,
                kube=kube,
            )
            for s in services
        ),
        kube=kube,
        gitops=_gitops(fabric),
        monitoring=(
            MonitoringPlan(labels=tuple(sorted(monitoring.labels.items())))
            if (monitoring := fabric.spec.kubernetes.monitoring) is not None
            else None
        ),
    )


def _at(spec: FabricSpec, box: Router | Reflector) -> IPv4Address | IPv6Address:
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


def _groups(
    fabric: Fabric, eligible: dict[str, tuple[str, ...]]
) -> tuple[tuple[PrefixGroup, tuple[str, ...]], ...]:
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
    groups: tuple[tuple[PrefixGroup, tuple[str, ...]], ...],
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


def _gitops(fabric: Fabric) -> GitOpsPlan | None:
    gitops = fabric.spec.gitops
    if gitops is None:
        return None
    return GitOpsPlan(
        repo_url=gitops.repo_url,
        revision=gitops.revision,
        path=gitops.path or f"out/{fabric.metadata.name}/cluster",
        argocd_namespace=gitops.argocd_namespace,
        flux_namespace=gitops.flux_namespace,
    )


def _service(
    fabric: Fabric,
    s: Service,
    *,
    placed: tuple[str, ...],
    timers: Timers,
    reflectors: tuple[Peer, ...],
    secrets: tuple[BgpSecret, ...],
    kube: KubePlan,
) -> ServicePlan:
    hc = s.health_check
    announce = s.load_balancers.announce
    vips4 = sorted(v for v in s.vips or () if isinstance(v, IPv4Address))
    vips6 = sorted(v for v in s.vips or () if isinstance(v, IPv6Address))
    if s.prefix is not None and not vips4:
        vips4 = [_first_host(s.prefix)]
    if s.prefix6 is not None and not vips6:
        vips6 = [_first_host(s.prefix6)]
    chosen = s.load_balancers
    return ServicePlan(
        name=s.name,
        namespace=s.namespace,
        prefix=s.prefix,
        vips=tuple(vips4),
        prefix6=s.prefix6,
        vips6=tuple(vips6),
        ports=tuple(
            PortPlan(
                name=p.name,
                port=p.port,
                protocol=p.protocol,
                # "": the backend Service's one unnamed port, as its EndpointSlices list it
                target_port=p.target_port or s.backend.port or "",
            )
            for p in sorted(s.ports, key=lambda p: (p.protocol, p.port))
        ),
        backend=BackendPlan(
            service=s.backend.service,
            namespace=s.backend.namespace or s.namespace,
            port=s.backend.port or "",
        ),
        scheduler=s.scheduler,
        health_check=HealthCheckPlan(
            type=hc.type,
            path=hc.path or "/",
            status=hc.status or 200,
            connect_timeout=hc.connect_timeout,
            interval=hc.interval,
            retries=hc.retries,
        ),
        announce=AnnouncePlan(
            interval=announce.interval_seconds,
            rise=announce.rise,
            fall=announce.fall,
            hold_down=announce.hold_down_seconds,
            hook_stale=announce.hook_stale_seconds,
        ),
        replicas=s.load_balancers.replicas,
        node_names=tuple(sorted(chosen.nodes)) if chosen.nodes is not None else None,
        node_selector=tuple(sorted(chosen.node_selector.items())),
        placement=placed,
        asn=fabric.spec.asn,
        timers=timers,
        reflectors=reflectors,
        bgp_secrets=secrets,
        pod_network=fabric.spec.networks.pods if s.prefix is not None else None,
        pod_network6=fabric.spec.networks.pods6 if s.prefix6 is not None else None,
        kube=kube,
    )


def _spread(fabric: Fabric, eligible: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """Each service's LBs on its least-loaded eligible nodes (ties by name), services by name."""
    load = {node.name: 0 for node in fabric.spec.nodes}
    placed: dict[str, tuple[str, ...]] = {}
    for service in sorted(fabric.spec.services, key=lambda s: s.name):
        # the same as sorting them all, without sorting every node for every service
        candidates = heapq.nsmallest(
            service.load_balancers.replicas,
            eligible[service.name],
            key=lambda name: (load[name], name),
        )
        chosen = tuple(sorted(candidates))
        for name in chosen:
            load[name] += 1
        placed[service.name] = chosen
    return placed


@overload
def _first_host(prefix: IPv4Network) -> IPv4Address: ...
@overload
def _first_host(prefix: IPv6Network) -> IPv6Address: ...
def _first_host(prefix: IPv4Network | IPv6Network) -> IPv4Address | IPv6Address:
    """The default VIP: the prefix's first usable address; a /31's or /32's (/127's, /128's)
    first address."""
    return prefix.network_address + (1 if prefix.num_addresses > 2 else 0)
