"""The plan of the BGP boxes: routers and route reflectors, their sessions and secrets, and what
each may accept (the service groups and the next hops granted to them)."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import Literal

from lbgen.plan.base import Family, Frozen


class Timers(Frozen):
    hold_time: int
    keepalive: int
    connect_retry: int


def carried(session_version: int, ipv6_routes: bool) -> tuple[Family, ...]:
    """What BGP sessions carry: IPv4 unicast over IPv4 sessions; IPv6 unicast over IPv6 ones,
    and over IPv4 ones when IPv6 routes ride them (dual-stack)."""
    ipv4: tuple[Family, ...] = ("ipv4",) if session_version == 4 else ()
    ipv6: tuple[Family, ...] = ("ipv6",) if session_version == 6 or ipv6_routes else ()
    return (*ipv4, *ipv6)


class Peer(Frozen):
    name: str
    address: IPv4Address | IPv6Address  # where its sessions run
    asn: int  # the AS it speaks
    # where this end reads the session's TCP-MD5 password: a file on the box, or in an LB pod
    # the file its Secret volume projects. None: the session has none
    password_file: str | None = None
    # GTSM (RFC 5082): the most hops away the other end may be. None: off
    ttl_security_hops: int | None = None


class BgpSecret(Frozen):
    """A reflector's LB password as the LB pods get it: a Secret's key, projected as a file
    named after the reflector (contract.BGP_PASSWORD_DIR)."""

    reflector: str
    secret: str
    key: str


class PrefixGroup(Frozen):
    """The service prefixes one set of nodes may carry: the services whose LBs may run on the
    same nodes. Policies list each group once and name it from each of those nodes' grants, so
    they grow with nodes + services, not their product."""

    name: str  # its first service, by name
    prefixes: tuple[IPv4Network, ...]
    prefixes6: tuple[IPv6Network, ...]

    def of(self, version: int) -> tuple[IPv4Network, ...] | tuple[IPv6Network, ...]:
        """Its prefixes of one IP version (4 or 6)."""
        return self.prefixes if version == 4 else self.prefixes6


class RouteGrant(Frozen):
    """Which routes an LB may announce with one node as next hop: the prefixes of the groups
    of services that node may run an LB of, from a peer in `peers` (the node's pod subnet when
    the spec gives it, else the LB pod range). Nothing else is accepted, and the attributes a
    speaker could use to win the best path are reset on import."""

    node: str
    # its IPv4 address, next hop of its groups' IPv4 prefixes (none: it carries none)
    next_hop: IPv4Address | None
    peers: IPv4Network | IPv6Network  # in the sessions' family
    groups: tuple[str, ...]  # the PrefixGroup names it may carry
    # its IPv6 address, next hop of its groups' IPv6 prefixes over the same sessions
    next_hop6: IPv6Address | None = None

    def hop(self, version: int) -> IPv4Address | IPv6Address | None:
        """Its next hop for prefixes of one IP version (4 or 6)."""
        return self.next_hop if version == 4 else self.next_hop6


class Granting(Frozen):
    """A box that accepts LB routes: the prefix groups, and per node the groups it may carry."""

    groups: tuple[PrefixGroup, ...]
    grants: tuple[RouteGrant, ...]

    def carriers(self) -> list[tuple[PrefixGroup, tuple[RouteGrant, ...]]]:
        """Each group with the grants of the nodes that may carry it."""
        by_group: dict[str, list[RouteGrant]] = {g.name: [] for g in self.groups}
        for grant in self.grants:
            for name in grant.groups:
                by_group[name].append(grant)
        return [(g, tuple(by_group[g.name])) for g in self.groups]

    def by_name(self) -> dict[str, PrefixGroup]:
        return {g.name: g for g in self.groups}

    @property
    def prefixes(self) -> tuple[IPv4Network | IPv6Network, ...]:
        """Every service prefix it may learn."""
        found: list[IPv4Network | IPv6Network] = []
        for group in self.groups:
            found += [*group.prefixes, *group.prefixes6]
        return tuple(sorted(found, key=lambda p: (p.version, int(p.network_address), p.prefixlen)))

    @property
    def carries6(self) -> bool:
        """Some of its routes are IPv6."""
        return any(g.prefixes6 for g in self.groups)


class ResilientPlan(Frozen):
    """How a router's kernel forwards its service prefixes: through resilient nexthop groups
    that follow zebra's routes (spec: routers[].resilientEcmp)."""

    via: Literal["router-fib", "zebra"]
    buckets: int
    idle_timer: int
    unbalanced_timer: int
    table: int
    fwmark: int
    # via router-fib: how long a leaving LB keeps the flows it had (the LB pods' drainSeconds)
    pin_seconds: int


class RouterPlan(Granting):
    name: str
    address: IPv4Address | IPv6Address  # where its sessions run
    address6: IPv6Address | None  # on the node network: where it reaches IPv6 next hops
    router_id: IPv4Address
    asn: int  # its own
    fabric_asn: int  # the reflectors' and LBs': another one makes its sessions eBGP
    implementation: Literal["frr", "gobgp", "bird", "external"]
    max_paths: int
    zebra_version: int
    zebra_software: str | None
    zebra_socket: str
    timers: Timers
    reflectors: tuple[Peer, ...]
    resilient: ResilientPlan | None = None

    @property
    def ebgp(self) -> bool:
        """Its sessions with the reflectors cross ASes."""
        return self.asn != self.fabric_asn

    @property
    def families(self) -> tuple[Family, ...]:
        """What its sessions carry."""
        return carried(self.address.version, self.carries6)


class ReflectorPlan(Granting):
    name: str
    address: IPv4Address | IPv6Address  # where its sessions run
    address6: IPv6Address | None  # on the node network
    implementation: Literal["gobgp", "frr"]
    router_id: IPv4Address
    cluster_id: IPv4Address
    asn: int
    timers: Timers
    pod_range: IPv4Network | IPv6Network
    routers: tuple[Peer, ...]
    add_paths_send_max: int
    max_prefixes_per_lb: int
    # the file on the reflector's box holding the LB sessions' password; None: no password
    lb_password_file: str | None
    # most LB sessions at once (FRR's bgp listen limit): every LB pod, twice over for restarts
    listen_limit: int

    @property
    def families(self) -> tuple[Family, ...]:
        """What its sessions carry."""
        return carried(self.address.version, self.carries6)
