"""Plan models (with base.py, and bgp.py for the BGP boxes). Everything a renderer or the runtime
needs is here, resolved; nothing is optional that a renderer would have to default.
Serialisable to JSON so the LB pod can read its share."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import Literal

from lbgen.contract import POD_SYSCTLS, POD_SYSCTLS6
from lbgen.plan.base import Family, Frozen
from lbgen.plan.bgp import BgpSecret, Peer, ReflectorPlan, RouterPlan, Timers, carried


class PortPlan(Frozen):
    name: str
    port: int
    protocol: Literal["TCP", "UDP"]
    # the backend Service's port (by name; "" for its one unnamed port) whose endpoint port
    # number the real servers use, matched with `protocol` as kube-proxy does
    target_port: str


class BackendPlan(Frozen):
    service: str
    namespace: str
    port: str  # "" for the backend Service's one unnamed port


class HealthCheckPlan(Frozen):
    type: Literal["tcp", "http"]
    path: str
    status: int
    connect_timeout: int
    interval: int
    retries: int


class AnnouncePlan(Frozen):
    """When an LB pod announces a family's prefix (lbgen.runtime.pod.announce)."""

    interval: float
    rise: int
    fall: int
    hold_down: float
    hook_stale: float


class ResourcePlan(Frozen):
    cpu: str
    memory: str


class KubePlan(Frozen):
    """How the LB side runs in the cluster."""

    namespace: str
    image: str
    image_pull_policy: str
    drain_seconds: int
    # seconds an LB keeps announcing after its preStop began, before it withdraws: the
    # drain, when every router forwards through resilient groups (a leaving LB keeps its
    # buckets, so its connections live on); 0, withdraw at once (hash-threshold routers)
    withdraw_after: int = 0
    # the namespace allowed to scrape the LB pods' metrics (their NetworkPolicy)
    metrics_namespace: str
    # container name → its request and limit (lbgen.contract names the containers)
    resources: tuple[tuple[str, ResourcePlan], ...]

    def resources_of(self, container: str) -> ResourcePlan:
        return dict(self.resources)[container]


class ServicePlan(Frozen):
    name: str
    namespace: str
    # its IPv4 prefix and VIPs (none: an IPv6 service)
    prefix: IPv4Network | None
    vips: tuple[IPv4Address, ...]
    # its IPv6 prefix and VIPs, announced with the node's IPv6 address (nodes.json) as next
    # hop (none: an IPv4 service)
    prefix6: IPv6Network | None
    vips6: tuple[IPv6Address, ...]
    ports: tuple[PortPlan, ...]
    backend: BackendPlan
    scheduler: str
    health_check: HealthCheckPlan
    announce: AnnouncePlan
    replicas: int
    # where its LBs may run, as the spec says it (their node affinity): these nodes (None: any
    # that may run an LB), with these labels
    node_names: tuple[str, ...] | None
    node_selector: tuple[tuple[str, str], ...]
    # where the LBs are expected to run: a deterministic spread used by tests and the testbed;
    # in a cluster the scheduler places them among the eligible nodes
    placement: tuple[str, ...]
    asn: int
    timers: Timers
    reflectors: tuple[Peer, ...]
    # the Secret keys the pod's exabgp reads its reflectors' passwords from
    bgp_secrets: tuple[BgpSecret, ...]
    pod_network: IPv4Network | None  # of a service with a prefix
    pod_network6: IPv6Network | None  # of a service with a prefix6
    kube: KubePlan

    @property
    def session_version(self) -> int:
        """The family of its sessions with the reflectors (4 or 6)."""
        return self.reflectors[0].address.version

    @property
    def prefixes(self) -> tuple[IPv4Network | IPv6Network, ...]:
        """Its prefixes: IPv4, IPv6, or both (IPv4 first)."""
        return tuple(p for p in (self.prefix, self.prefix6) if p is not None)

    @property
    def ip_families(self) -> tuple[str, ...]:
        """The families of its prefixes, as Kubernetes names them (a Service's ipFamilies, an
        EndpointSlice's addressType): IPv4, IPv6."""
        return tuple(f"IPv{p.version}" for p in self.prefixes)

    @property
    def all_vips(self) -> tuple[IPv4Address | IPv6Address, ...]:
        """Its VIPs of both families, IPv4 first."""
        return (*self.vips, *self.vips6)

    @property
    def pod_sysctls(self) -> tuple[tuple[str, str], ...]:
        """The namespaced sysctls its LB pods need (their securityContext.sysctls): IPVS's
        (net.ipv4.vs.*, for both families) and IPv4 forwarding always, IPv6's with a prefix6."""
        return (*POD_SYSCTLS, *(POD_SYSCTLS6 if self.prefix6 is not None else ()))


class MonitoringPlan(Frozen):
    """The Prometheus Operator's objects for the LB pods (cluster/fabric/monitoring.yaml)."""

    labels: tuple[tuple[str, str], ...]  # on both objects, for the Prometheus selecting them


class GitOpsPlan(Frozen):
    repo_url: str
    revision: str
    path: str
    argocd_namespace: str
    flux_namespace: str


class NodePlan(Frozen):
    name: str
    address: IPv4Address | None  # none in an IPv6-only cluster
    address6: IPv6Address | None
    pod_subnet: IPv4Network | None
    pod_subnet6: IPv6Network | None
    labels: tuple[tuple[str, str], ...]
    load_balancers: tuple[str, ...]
    # kernel modules IPVS needs on every node that may run an LB: ip_vs and each scheduler used
    ipvs_modules: tuple[str, ...]
    conntrack_max: int


class Plan(Frozen):
    fabric: str
    # the nodes that may run some service's LB (the node agent's DaemonSet runs there)
    lb_nodes: tuple[str, ...]
    source: str
    asn: int
    # a cluster's IPv4 networks, IPv6 ones, or both
    node_network: IPv4Network | None
    pod_network: IPv4Network | None
    node_network6: IPv6Network | None
    pod_network6: IPv6Network | None
    timers: Timers
    routers: tuple[RouterPlan, ...]
    reflectors: tuple[ReflectorPlan, ...]
    nodes: tuple[NodePlan, ...]
    services: tuple[ServicePlan, ...]
    kube: KubePlan
    gitops: GitOpsPlan | None
    monitoring: MonitoringPlan | None = None

    @property
    def session_version(self) -> int:
        """The family the BGP sessions run over: IPv4 where the cluster has it."""
        return 4 if self.node_network is not None else 6

    @property
    def families(self) -> tuple[Family, ...]:
        """What the sessions carry."""
        return carried(self.session_version, any(s.prefix6 for s in self.services))


class PodConfig(Frozen):
    """What one LB pod reads when it starts (lb.json): its service's share of the plan."""

    # JSON has no comments: the generated-file header is the first key
    header: str
    # the spec it was compiled from, named in every file the pod renders
    source: str
    service: ServicePlan


class NodesConfig(Frozen):
    """What an LB pod of an IPv6 service reads (nodes.json): each node's IPv6 address, its next
    hop. One file for the fabric, not a copy per service."""

    header: str
    source: str
    addresses6: tuple[tuple[str, IPv6Address], ...]  # (node, address6)


class AgentConfig(Frozen):
    """What the node agent reads (node-agent.json): the only prefixes it may route, per
    service. It routes none from a pod's annotation, and prunes only these."""

    header: str
    source: str
    fabric: str
    namespace: str
    node_network: IPv4Network | None
    pod_network: IPv4Network | None
    prefixes: tuple[tuple[str, IPv4Network], ...]  # (service, prefix)
    # (service, prefix6), and the IPv6 networks no prefix6 may overlap
    prefixes6: tuple[tuple[str, IPv6Network], ...]
    node_network6: IPv6Network | None
    pod_network6: IPv6Network | None


class RouterFibConfig(Frozen):
    """What `lbgen router-fib` reads on a router (router-fib.json): the only prefixes whose
    zebra routes it copies into resilient groups, the group settings, and where its routes,
    mark and rule live. It touches no other route, nexthop or table."""

    header: str
    source: str
    router: str
    buckets: int
    idle_timer: int
    unbalanced_timer: int
    table: int
    fwmark: int
    rule_priority: int  # its `ip rule`s, before the main table's (32766)
    # how long marked packets keep using its table after its last heartbeat: a dead router-fib's
    # groups are left behind and forwarding falls back to zebra's route
    lease_ms: int
    # how long a member that left a route keeps the flows it had (0: no pins, no conntrack)
    pin_seconds: int
    # the kernel protocol of the routes it follows: zebra's bgp (186), BIRD's bird (12)
    route_protocol: int
    prefixes: tuple[IPv4Network, ...]
    prefixes6: tuple[IPv6Network, ...]


class BoxPassword(Frozen):
    neighbor: str  # an FRR neighbour: an address, or the peer-group of the LB pods
    file: str  # on the box


class BoxPasswords(Frozen):
    """What `lbgen box-config` reads beside a box's frr.conf (passwords.json): which
    neighbour's TCP-MD5 password is in which file on the box. It names files; it never holds
    a password, so it can be committed with the rest of out/."""

    header: str
    source: str
    asn: int
    passwords: tuple[BoxPassword, ...]


class ContractSession(Frozen):
    """One BGP session an external router must hold: with one reflector."""

    reflector: str
    address: IPv4Address | IPv6Address  # the reflector's: where the router connects
    asn: int  # the reflector's (the fabric's)
    local_address: IPv4Address | IPv6Address  # the router's own end
    local_asn: int
    ebgp: bool
    families: tuple[Literal["ipv4-unicast", "ipv6-unicast"], ...]
    add_paths_receive: bool  # every LB's path, not only the best
    export: Literal["nothing"]  # the reflectors need no route from the router
    hold_time: int
    keepalive: int
    connect_retry: int
    # TCP-MD5: the file on the reflectors' boxes holding the password both ends use (None: off)
    password_file: str | None
    ttl_security_hops: int | None  # GTSM (RFC 5082): None off


class ContractAccept(Frozen):
    """Routes the router may accept: any of `prefixes` with any of `next_hops` as next hop
    (each group of services once, with the nodes that may carry it: the (prefix, next hop)
    pairs, factored so they grow with nodes + services)."""

    group: str
    family: Literal["ipv4-unicast", "ipv6-unicast"]
    prefixes: tuple[IPv4Network, ...] | tuple[IPv6Network, ...]
    next_hops: tuple[IPv4Address, ...] | tuple[IPv6Address, ...]


class RouterContract(Frozen):
    """What a router lbgen does not configure (implementation: external) must do, as data
    (contract.json); its README.md says it in words. Every accepted route: one of `accept`'s
    pairs, with `as_path` exactly, its LOCAL_PREF, MED and communities reset to `reset`."""

    header: str
    source: str
    kind: Literal["lbgen.io/router-contract"]
    version: Literal[1]
    router: str
    router_id: IPv4Address
    sessions: tuple[ContractSession, ...]
    max_paths: int  # ECMP: every LB of a service an equal next hop, up to this many
    as_path: tuple[int, ...]  # what accepted routes carry: empty (iBGP), the fabric's AS (eBGP)
    reset: dict[str, str]
    accept: tuple[ContractAccept, ...]
    # a service prefix no LB announces: refused at the router (unreachable), never sent on by a
    # default route
    discard: tuple[IPv4Network | IPv6Network, ...]
