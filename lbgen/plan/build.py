"""Spec (already checked) → Plan. Cannot fail: every rule it relies on was checked before."""

from __future__ import annotations

import heapq
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import overload

from lbgen.contract import BGP_PASSWORD_DIR, DEFAULT_RESOURCES
from lbgen.plan.bgp import (
    BgpSecret,
    Peer,
    Timers,
)
from lbgen.plan.boxes import at, bgp_boxes, pins
from lbgen.plan.model import (
    AnnouncePlan,
    BackendPlan,
    GitOpsPlan,
    HealthCheckPlan,
    KubePlan,
    MonitoringPlan,
    NodePlan,
    Plan,
    PortPlan,
    ResourcePlan,
    ServicePlan,
)
from lbgen.spec import Fabric, FabricSpec, Service
from lbgen.spec.selection import Eligibility


def build_plan(fabric: Fabric, source: str) -> Plan:
    spec = fabric.spec
    timers = Timers(
        hold_time=spec.bgp.hold_time,
        keepalive=spec.bgp.keepalive,
        connect_retry=spec.bgp.connect_retry,
    )
    reflectors = sorted(spec.reflectors, key=lambda r: r.name)
    # what an LB pod dials: each reflector, with the password its Secret volume projects
    lb_view = tuple(
        Peer(
            name=r.name,
            address=at(spec, r),
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
    eligibility = Eligibility(spec.nodes)
    eligible = {s.name: eligibility.names(s) for s in spec.services}
    placement = _spread(fabric, eligible)
    kube = _kube(spec)
    routers, reflector_plans = bgp_boxes(fabric, timers, eligible)
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
        routers=routers,
        reflectors=reflector_plans,
        nodes=_nodes(spec, placement),
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
            for s in sorted(spec.services, key=lambda s: s.name)
        ),
        kube=kube,
        gitops=_gitops(fabric),
        monitoring=(
            MonitoringPlan(labels=tuple(sorted(monitoring.labels.items())))
            if (monitoring := fabric.spec.kubernetes.monitoring) is not None
            else None
        ),
    )


def _withdraw_after(spec: FabricSpec) -> int:
    """How long a leaving LB keeps announcing. Where every router pins a leaving LB's flows to
    it (resilientEcmp via router-fib), not at all: it withdraws at once, gets no new flow, and
    keeps its own through the drain. Where every router is resilient but some cannot pin (FRR's
    own knob), through the drain: the router keeps sending it its buckets' flows, new ones too,
    and those end in their time. Elsewhere not at all, as before."""
    routers = [r.resilient_ecmp for r in spec.routers]
    if not routers or not all(routers) or all(pins(r) for r in routers):
        return 0
    return spec.kubernetes.drain_seconds


def _kube(spec: FabricSpec) -> KubePlan:
    k8s = spec.kubernetes
    return KubePlan(
        namespace=k8s.namespace,
        image=k8s.image,
        image_pull_policy=k8s.image_pull_policy,
        drain_seconds=k8s.drain_seconds,
        withdraw_after=_withdraw_after(spec),
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


def _nodes(spec: FabricSpec, placement: dict[str, tuple[str, ...]]) -> tuple[NodePlan, ...]:
    modules = ("ip_vs", *sorted({f"ip_vs_{s.scheduler}" for s in spec.services}))
    on_node: dict[str, list[str]] = {}  # node → the services with an LB there, in name order
    for service in sorted(placement):
        for node in dict.fromkeys(placement[service]):
            on_node.setdefault(node, []).append(service)
    return tuple(
        NodePlan(
            name=n.name,
            address=n.address,
            address6=n.address6,
            pod_subnet=n.pod_subnet,
            pod_subnet6=n.pod_subnet6,
            labels=tuple(sorted(n.labels.items())),
            load_balancers=tuple(on_node.get(n.name, ())),
            ipvs_modules=modules,
            conntrack_max=spec.kubernetes.conntrack_max,
        )
        for n in sorted(spec.nodes, key=lambda n: n.name)
    )


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
