"""The `lbgen.io/v1alpha1` `Fabric` spec: shape and types; cross-field rules live in checks/."""

from __future__ import annotations

from collections.abc import Iterator
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    IPvAnyAddress,
    IPvAnyNetwork,
    StringConstraints,
)
from pydantic.alias_generators import to_camel

API_VERSION = "lbgen.io/v1alpha1"

NAME_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
QUANTITY_PATTERN = r"^([0-9]+(\.[0-9]+)?|\.[0-9]+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$"
IMAGE_PATTERN = (
    r"^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*"
    r"(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})$"
)
# strings that reach a config or manifest are one token of a small alphabet: no whitespace, no
# quotes, no comment or block characters of any daemon's syntax (render/text.py refuses them too)
GIT_URL_PATTERN = r"^(https://|ssh://|git@)[A-Za-z0-9._~:/?@&+,=%-]{1,500}$"
NO_SPACE_PATTERN = r"^[A-Za-z0-9._/-]{1,255}$"
HTTP_PATH_PATTERN = r"^[A-Za-z0-9._~%/?=&+:@,-]{1,256}$"
REPO_PATH_PATTERN = r"^[A-Za-z0-9._-][A-Za-z0-9._/-]{0,254}$"
ZEBRA_SOFTWARE_PATTERN = r"^[a-z0-9.]{1,32}$"
ZEBRA_SOCKET_PATTERN = r"^(unix:/[A-Za-z0-9._/-]{1,200}|tcp:[0-9.]{7,15}:[0-9]{1,5})$"
# no '.' or '..' part: the path is read as root on the box (lbgen box-config)
BOX_FILE_PATTERN = r"^(/[A-Za-z0-9_][A-Za-z0-9._-]{0,127}){1,16}$"
DATA_KEY_PATTERN = r"^[-._a-zA-Z0-9]{1,253}$"
# what each pattern asks for, in words, for diagnostics
PATTERN_MEANING = {
    NAME_PATTERN: "a DNS label: lower-case letters, digits and '-', starting and ending with "
    "a letter or digit",
    QUANTITY_PATTERN: "a Kubernetes quantity such as 100m, 0.5 or 128Mi",
    IMAGE_PATTERN: "an image reference with a tag or digest, such as ghcr.io/org/lbgen:0.1.0",
    GIT_URL_PATTERN: "a git URL starting with https://, ssh:// or git@, without spaces or quotes",
    NO_SPACE_PATTERN: "a branch, tag or commit: letters, digits, '.', '_', '/' and '-'",
    HTTP_PATH_PATTERN: "an HTTP path of letters, digits and URL punctuation, with no space, "
    "quote, '#', '!', ';', '{' or '}' (keepalived reads those as syntax)",
    REPO_PATH_PATTERN: "a relative folder path: letters, digits, '.', '_', '/' and '-'",
    ZEBRA_SOFTWARE_PATTERN: "a zebra software name such as frr7.2",
    ZEBRA_SOCKET_PATTERN: "a zebra API URL: unix:/path or tcp:address:port",
    BOX_FILE_PATTERN: "an absolute file path whose parts are letters, digits, '.', '_' and '-', "
    "each starting with a letter, digit or '_' (no '.' or '..' part)",
    DATA_KEY_PATTERN: "a Secret data key: letters, digits, '-', '_' and '.'",
}


NOT_TEXT = "is not written as text"


def _written_as_text(value: Any) -> Any:
    """An address or network must be written as text: YAML's 167837953 or `true` would
    otherwise become 10.1.1.1/32 or 0.0.0.1/32."""
    if not isinstance(value, str):
        raise ValueError(NOT_TEXT)
    return value


Ipv4Net = Annotated[IPv4Network, BeforeValidator(_written_as_text)]
Ipv4Addr = Annotated[IPv4Address, BeforeValidator(_written_as_text)]
Ipv6Net = Annotated[IPv6Network, BeforeValidator(_written_as_text)]
Ipv6Addr = Annotated[IPv6Address, BeforeValidator(_written_as_text)]
# a VIP of either family: IPv4 inside `prefix`, IPv6 inside `prefix6`
AnyAddr = Annotated[IPvAnyAddress, BeforeValidator(_written_as_text)]
# a range in the family of the sessions
AnyNet = Annotated[IPvAnyNetwork, BeforeValidator(_written_as_text)]

# a DNS-1123 label: it names Kubernetes objects and output folders
Name = Annotated[str, StringConstraints(min_length=1, max_length=63, pattern=NAME_PATTERN)]
Asn = Annotated[int, Field(ge=1, le=4_294_967_295)]
Scheduler = Literal["rr", "wrr", "lc", "wlc", "sh", "mh"]


class Model(BaseModel):
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        strict=False,
    )


class Metadata(Model):
    name: Name = Field(description="The fabric's name; output goes to out/<name>/.")


class Networks(Model):
    """A cluster's families: IPv4 (nodes, pods), IPv6 (nodes6, pods6), or both. The BGP
    sessions run over IPv4 when the cluster has it, else over IPv6 (an IPv6-only cluster)."""

    nodes: Ipv4Net | None = Field(
        None,
        description=(
            "The node (underlay) network the router shares; omit it (and pods) in an IPv6-only "
            "cluster."
        ),
    )
    pods: Ipv4Net | None = Field(
        None, description="The pod (overlay) network LB pods get addresses from."
    )
    nodes6: Ipv6Net | None = Field(
        None,
        description=(
            "The node network's IPv6 prefix (a dual-stack or IPv6-only cluster): the IPv6 next "
            "hops of services with a prefix6 are the nodes' address6 in it."
        ),
    )
    pods6: Ipv6Net | None = Field(
        None, description="The pod network's IPv6 prefix (a dual-stack or IPv6-only cluster)."
    )


class BgpTimers(Model):
    hold_time: Annotated[int, Field(ge=0, le=65535)] = Field(
        9, description="BGP hold time in seconds (0 disables keepalives, else at least 3)."
    )
    keepalive: Annotated[int, Field(ge=0, le=21845)] = Field(
        3, description="Keepalive interval in seconds (at most a third of the hold time)."
    )
    connect_retry: Annotated[int, Field(ge=1, le=65535)] = Field(
        5, description="Seconds between connection attempts of an active side."
    )


BoxFile = Annotated[str, StringConstraints(pattern=BOX_FILE_PATTERN)]


class LbPassword(Model):
    """The TCP-MD5 password of the sessions between the LB pods and one reflector: named,
    never written in the spec or out/."""

    secret: Name = Field(
        description="The Secret, in kubernetes.namespace, the LB pods read the password from."
    )
    key: Annotated[str, StringConstraints(pattern=DATA_KEY_PATTERN)] = Field(
        "password", description="Its key in the Secret."
    )
    file: BoxFile = Field(
        description="Where the reflector's box holds the same password (lbgen box-config reads it)."
    )


class Router(Model):
    name: Name
    address: Ipv4Addr | None = Field(
        None, description="The router's address in networks.nodes (an IPv4 or dual-stack cluster)."
    )
    address6: Ipv6Addr | None = Field(
        None,
        description=(
            "Its IPv6 address in networks.nodes6: it reaches the nodes' IPv6 next hops there "
            "(a dual-stack cluster's sessions stay IPv4 and carry both families; an IPv6-only "
            "cluster's run over these addresses)."
        ),
    )
    asn: Asn | None = Field(
        None,
        description=(
            "The router's AS; default spec.asn (iBGP). Another AS makes its sessions with the "
            "reflectors eBGP: the reflectors keep the LBs' nodes as next hops."
        ),
    )
    router_id: Ipv4Addr | None = Field(
        None,
        description="BGP router-id (32 bits, dotted); default the IPv4 address, else required.",
    )
    implementation: Literal["frr", "gobgp"] = Field(
        "frr",
        description=(
            "frr: FRR bgpd + zebra (default, proven). gobgp: the paper's gobgpd + zebra pair; "
            "gobgpd 3.10 panics against FRR 8.4's zebra (osrg/gobgp#2681)."
        ),
    )
    max_paths: Annotated[int, Field(ge=1, le=64)] = Field(
        16, description="Most ECMP next hops the router installs for one prefix."
    )
    zebra_version: Literal[2, 3, 4, 5, 6] = Field(
        6, description="zebra API version gobgpd speaks (implementation: gobgp only)."
    )
    zebra_software: Annotated[str, StringConstraints(pattern=ZEBRA_SOFTWARE_PATTERN)] | None = (
        Field(
            None,
            description="gobgpd's zebra software-name (e.g. frr7.2) if the version is ambiguous.",
        )
    )
    zebra_socket: Annotated[str, StringConstraints(pattern=ZEBRA_SOCKET_PATTERN)] = Field(
        "unix:/run/frr/zserv.api", description="zebra API socket URL (implementation: gobgp only)."
    )
    password_file: BoxFile | None = Field(
        None,
        description=(
            "TCP-MD5 password of this router's sessions with the reflectors: the file holding "
            "it on the router and on every reflector box (lbgen box-config reads it)."
        ),
    )
    ttl_security_hops: Annotated[int, Field(ge=1, le=254)] | None = Field(
        None,
        description=(
            "GTSM (RFC 5082) on this router's sessions with the reflectors: accept packets "
            "only from at most this many hops away (1: the same segment)."
        ),
    )


class Reflector(Model):
    name: Name
    address: Ipv4Addr | None = Field(
        None,
        description="Address the LB pods and routers peer with (an IPv4 or dual-stack cluster).",
    )
    address6: Ipv6Addr | None = Field(
        None,
        description=(
            "Its IPv6 address in networks.nodes6: where they peer in an IPv6-only cluster. An "
            "FRR reflector needs it with dual-stack services: it reflects an IPv6 path only "
            "when it can resolve the path's next hop."
        ),
    )
    router_id: Ipv4Addr | None = Field(
        None,
        description="BGP router-id (32 bits, dotted); default the IPv4 address, else required.",
    )
    cluster_id: Ipv4Addr | None = Field(
        None, description="Cluster-id; default the IPv4 address, else the router-id."
    )
    pod_range: AnyNet | None = Field(
        None,
        description=(
            "Range dynamic neighbours are accepted from, in the sessions' family; default "
            "networks.pods (networks.pods6 in an IPv6-only cluster)."
        ),
    )
    implementation: Literal["gobgp", "frr"] = Field(
        "gobgp",
        description=(
            "gobgp: gobgpd, as the paper (default). frr: FRR bgpd, which can authenticate the "
            "LB pods' dynamic sessions (gobgpd 3.10 cannot: osrg/gobgp#2589)."
        ),
    )
    lb_password: LbPassword | None = Field(
        None, description="TCP-MD5 password of the LB pods' sessions with this reflector."
    )


class Node(Model):
    name: Name
    address: Ipv4Addr | None = Field(
        None, description="The node's address in networks.nodes (an IPv4 or dual-stack cluster)."
    )
    address6: Ipv6Addr | None = Field(
        None,
        description="Its IPv6 address in networks.nodes6: the next hop of IPv6 service prefixes.",
    )
    pod_subnet: Ipv4Net | None = Field(
        None,
        description=(
            "The node's share of the pod network (its podCIDR). When given, the reflector "
            "accepts a route with this node as next hop only from a pod in this subnet."
        ),
    )
    pod_subnet6: Ipv6Net | None = Field(
        None, description="The node's share of networks.pods6 (its IPv6 podCIDR)."
    )
    labels: dict[str, str] = Field(default_factory=dict)


class Port(Model):
    name: Name
    port: Annotated[int, Field(ge=1, le=65535)]
    protocol: Literal["TCP", "UDP"] = "TCP"
    target_port: Name | None = Field(
        None, description="Name of the backend Service's port for this one; default backend.port."
    )


class Backend(Model):
    service: Name = Field(description="The Kubernetes Service whose EndpointSlices are the pool.")
    namespace: Name | None = Field(None, description="Default: the load balancer's namespace.")
    port: Name | None = Field(
        None,
        description=(
            "The backend Service's port (by name) traffic goes to; omit it for a backend "
            "Service with a single unnamed port."
        ),
    )


class HealthCheck(Model):
    type: Literal["tcp", "http"] = "tcp"
    path: Annotated[str, StringConstraints(pattern=HTTP_PATH_PATTERN)] | None = Field(
        None, description="HTTP path (type http only); default /."
    )
    status: Annotated[int, Field(ge=100, le=599)] | None = Field(
        None, description="Expected HTTP status (type http only); default 200."
    )
    connect_timeout: Annotated[int, Field(ge=1, le=3600)] = Field(2, description="Seconds.")
    interval: Annotated[int, Field(ge=1, le=3600)] = Field(2, description="Seconds between checks.")
    retries: Annotated[int, Field(ge=0, le=100)] = Field(2, description="Failures before removal.")


class Announce(Model):
    """When an LB pod announces its service's prefixes: per family, only while its own datapath
    can serve it (keepalived running, IPVS holding every VIP:port of the family with a real
    server of weight > 0, the hook alive)."""

    interval_seconds: Annotated[float, Field(ge=0.2, le=60)] = Field(
        1.0,
        description=(
            "Seconds between checks; a quarter of it while a change is pending (rise or fall)."
        ),
    )
    rise: Annotated[int, Field(ge=1, le=10)] = Field(
        2, description="Passing checks in a row before a prefix is announced."
    )
    fall: Annotated[int, Field(ge=1, le=10)] = Field(
        2, description="Failing checks in a row before a prefix is withdrawn."
    )
    hold_down_seconds: Annotated[float, Field(ge=0, le=600)] = Field(
        5.0,
        description=(
            "After a withdrawal, the least time before the prefix is announced again; doubled "
            "(up to 8 times) for each announcement that lasted less than 8 times it."
        ),
    )
    hook_stale_seconds: Annotated[float, Field(ge=1, le=600)] = Field(
        5.0,
        description=(
            "A hook silent this long (frozen or dead) is a local failure: the LB withdraws. An "
            "API server it cannot reach is not: the LB keeps serving its last pool."
        ),
    )


class LoadBalancers(Model):
    replicas: Annotated[int, Field(ge=1, le=1024)] = Field(
        2, description="LB pods for this service, each on its own node."
    )
    nodes: tuple[Name, ...] | None = Field(None, description="Only these nodes may run its LBs.")
    node_selector: dict[str, str] = Field(
        default_factory=dict, description="Only nodes with all these labels may run its LBs."
    )
    announce: Announce = Field(default_factory=Announce)


class Service(Model):
    name: Name
    namespace: Name = "default"
    prefix: Ipv4Net | None = Field(
        None,
        description="The IPv4 prefix announced over BGP for this service (needs networks.nodes).",
    )
    prefix6: Ipv6Net | None = Field(
        None,
        description=(
            "Its IPv6 prefix, alone (an IPv6 service) or beside prefix (dual-stack): announced "
            "with the node's address6 as next hop; needs networks.nodes6 and pods6."
        ),
    )
    vips: tuple[AnyAddr, ...] | None = Field(
        None,
        description=(
            "Virtual IPs inside the prefixes (IPv4 in prefix, IPv6 in prefix6); default the "
            "first host of each."
        ),
    )
    ports: tuple[Port, ...] = Field(min_length=1)
    backend: Backend
    scheduler: Scheduler = Field(
        "mh", description="IPVS scheduler; mh makes every LB pick the same backend for a flow."
    )
    health_check: HealthCheck = Field(default_factory=HealthCheck)
    load_balancers: LoadBalancers = Field(default_factory=LoadBalancers)


Quantity = Annotated[str, StringConstraints(pattern=QUANTITY_PATTERN)]
Image = Annotated[str, StringConstraints(pattern=IMAGE_PATTERN)]


class ContainerResources(Model):
    cpu: Quantity | None = Field(None, description="CPU request; default lbgen's measured one.")
    memory: Quantity | None = Field(
        None, description="Memory request and limit; default lbgen's measured peak + 30 %."
    )


class Resources(Model):
    """Per container; each default comes from the peak RSS bench/memory.py measured."""

    setup: ContainerResources = Field(default_factory=ContainerResources)
    keepalived: ContainerResources = Field(default_factory=ContainerResources)
    exabgp: ContainerResources = Field(default_factory=ContainerResources)
    hook: ContainerResources = Field(default_factory=ContainerResources)
    agent: ContainerResources = Field(
        default_factory=ContainerResources, description="The node agent's container."
    )


class Monitoring(Model):
    """A PodMonitor and a PrometheusRule for the Prometheus Operator (kube-prometheus), in
    cluster/fabric/monitoring.yaml."""

    labels: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "Labels on both objects, for the Prometheus that selects them (kube-prometheus-"
            "stack's: release: <its Helm release>)."
        ),
    )


class Kubernetes(Model):
    namespace: Name = Field("lbgen-system", description="Where LB pods and the node agent run.")
    image: Image = Field(
        "localhost/lbgen:0.1.0",
        description=(
            "Image with keepalived, exabgp and lbgen. image/build.sh builds localhost/lbgen:"
            "<version>; push it to your registry and name that copy here."
        ),
    )
    image_pull_policy: Literal["IfNotPresent", "Always", "Never"] = "IfNotPresent"
    drain_seconds: Annotated[int, Field(ge=0, le=3600)] = Field(
        10, description="After the route is withdrawn, how long IPVS keeps serving open flows."
    )
    resources: Resources = Field(default_factory=Resources)
    metrics_namespace: Name = Field(
        "monitoring",
        description="The only namespace whose pods may scrape the LB pods' metrics port.",
    )
    conntrack_max: Annotated[int, Field(ge=65536, le=67108864)] = Field(
        1048576, description="net.netfilter.nf_conntrack_max on nodes (IPVS NAT tracks every flow)."
    )
    monitoring: Monitoring | None = Field(
        None,
        description=(
            "Write a PodMonitor (the LB pods' metrics port) and a PrometheusRule (an LB not "
            "announcing, a BGP session down, a stale pool, a silent announcer)."
        ),
    )


class GitOps(Model):
    repo_url: Annotated[str, StringConstraints(pattern=GIT_URL_PATTERN)] = Field(
        description="The git repository Argo CD / Flux read out/ from."
    )
    revision: Annotated[str, StringConstraints(min_length=1, pattern=NO_SPACE_PATTERN)] = "main"
    path: Annotated[str, StringConstraints(pattern=REPO_PATH_PATTERN)] | None = Field(
        None, description="Folder of cluster/ in the repo; default out/<name>/cluster."
    )
    argocd_namespace: Name = "argocd"
    flux_namespace: Name = "flux-system"


class FabricSpec(Model):
    asn: Asn = Field(description="The AS of the reflectors and LBs (and of iBGP routers).")
    networks: Networks
    bgp: BgpTimers = Field(default_factory=BgpTimers)
    routers: tuple[Router, ...] = Field(min_length=1)
    reflectors: tuple[Reflector, ...] = Field(min_length=1)
    nodes: tuple[Node, ...] = Field(min_length=1)
    services: tuple[Service, ...] = ()
    kubernetes: Kubernetes = Field(default_factory=Kubernetes)
    gitops: GitOps | None = None

    def boxes(self) -> Iterator[tuple[str, int, Router | Reflector | Node]]:
        """Every router, reflector and node: (its list in the spec, its index there, it)."""
        for group in ("routers", "reflectors", "nodes"):
            for index, box in enumerate(getattr(self, group)):
                yield group, index, box


class Fabric(Model):
    """One site's load-balancer fabric."""

    api_version: Literal["lbgen.io/v1alpha1"]
    kind: Literal["Fabric"]
    metadata: Metadata
    spec: FabricSpec
