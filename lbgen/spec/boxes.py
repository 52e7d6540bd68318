"""The spec's boxes: the fabric's networks, its routers, route reflectors and nodes, and the
BGP timers and passwords of their sessions."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    Field,
    StringConstraints,
)

from lbgen.spec.fields import (
    BOX_FILE_PATTERN,
    DATA_KEY_PATTERN,
    ZEBRA_SOCKET_PATTERN,
    ZEBRA_SOFTWARE_PATTERN,
    AnyNet,
    Asn,
    Ipv4Addr,
    Ipv4Net,
    Ipv6Addr,
    Ipv6Net,
    Model,
    Name,
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


class ResilientEcmp(Model):
    """Resilient hashing on the router's ECMP routes: the kernel forwards a service prefix
    through a resilient nexthop group (Linux >= 5.13), so an LB that joins takes only idle
    buckets and an LB that leaves moves only its own flows; under hash-threshold multipath
    (zebra's own) every change moves a quarter to a half of the survivors' flows, and with NAT in
    the LB pods a moved flow is a broken connection. zebra stays the authority on which LBs are
    in a route; the group follows it."""

    via: Literal["router-fib", "zebra", "agent"] = Field(
        "router-fib",
        description=(
            "router-fib: `lbgen router-fib` beside the router's BGP daemon (FRR, BIRD, "
            "gobgpd + zebra; needs nftables) copies each kernel route of a service prefix into "
            "a resilient group in its own table, which marked packets use, and pins a leaving "
            "LB's flows to it for drainSeconds (conntrack marks), so LBs withdraw at once and "
            "drain without new flows; if router-fib dies its lease runs out and forwarding "
            "falls back to the daemon's route. zebra: FRR's own `zebra nexthop-group "
            "resilience` (FRR master since June 2026; FRR 8.4 refuses it): lbgen renders that "
            "line instead, and LBs drain announcing. agent: router-fib's old name, still read "
            "(warning LB135)."
        ),
    )
    buckets: Annotated[int, Field(ge=2, le=4096)] = Field(
        256,
        description=(
            "Hash buckets per group: each LB of a service gets buckets/LBs of them, so 256 "
            "keeps 16 LBs within 1/256 of an even share (zebra's knob takes 256 at most)."
        ),
    )
    idle_timer: Annotated[int, Field(ge=1, le=86400)] = Field(
        120,
        description=(
            "Seconds a bucket must see no packet before it may move to another LB (a new "
            "one): longer than a client's idle keep-alive (nginx 75 s), so a quiet connection "
            "is not moved under its feet."
        ),
    )
    unbalanced_timer: Annotated[int, Field(ge=0, le=86400)] = Field(
        0,
        description=(
            "Seconds a group may stay unbalanced before busy buckets are moved too (which "
            "breaks their flows); 0 never forces it: a new LB fills as flows end."
        ),
    )
    table: Annotated[int, Field(ge=1, le=2**31 - 1)] = Field(
        4242,
        description="The kernel routing table router-fib's routes live in (via: router-fib).",
    )
    fwmark: Annotated[int, Field(ge=1, le=2**31 - 1)] = Field(
        0x4C42,
        description=(
            "The mark bits router-fib's nftables rule sets on packets to a service prefix, "
            "which its `ip rule` sends to its table (via: router-fib); keep them clear of "
            "other marks on the router."
        ),
    )

    @property
    def by_router_fib(self) -> bool:
        """`lbgen router-fib` makes the groups (`agent` is its old name)."""
        return self.via != "zebra"


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
    implementation: Literal["frr", "gobgp", "bird", "external"] = Field(
        "frr",
        description=(
            "frr: FRR bgpd + zebra (default, proven). gobgp: the paper's gobgpd + zebra pair; "
            "gobgpd 3.10 panics against FRR 8.4's zebra (osrg/gobgp#2681). bird: BIRD 2 "
            "(bird.conf: the same sessions, second wall and discard routes as frr). external: "
            "a router lbgen does not configure (a ToR or border switch the network team owns): "
            "out/ holds the contract it must meet (contract.json, README.md), and the "
            "reflectors' side is rendered as for any router."
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
    resilient_ecmp: ResilientEcmp | None = Field(
        None,
        description=(
            "Resilient hashing on this router's ECMP routes, so LBs joining and leaving move "
            "no flow of the LBs that stay; omit it for zebra's hash-threshold routes."
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
