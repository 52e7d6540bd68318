"""A BGP speaker as its rendered config describes it, whatever the daemon."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_network

from lbgen.diagnostics import Position
from lbgen.plan import PrefixGroup, RouteGrant

# the plan's families by the name both daemons' readers give them (gobgpd's afi-safi-name)
FAMILIES = {"ipv4": "ipv4-unicast", "ipv6": "ipv6-unicast"}
Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network
Pair = tuple[Network, Network]  # (service prefix, next hop as a host network)


# next hop (as a host network) → the sets of service prefixes accepted via it: the factored
# form of the accepted (prefix, next hop) pairs, which grow with nodes × services
Accepted = dict[Network, set[frozenset[Network]]]


GroupSets = dict[tuple[str, int], frozenset[Network]]  # (group, IP version) → its prefixes


def group_sets(groups: Iterable[PrefixGroup]) -> GroupSets:
    sets: GroupSets = {}
    for group in groups:
        for version in (4, 6):
            sets[group.name, version] = frozenset(group.of(version))
    return sets


def granted(sets: GroupSets, grants: Iterable[RouteGrant]) -> Accepted:
    """What an import policy must accept: via each grant's node, its groups' prefixes of each
    family (with the node's address of that family)."""
    wanted: Accepted = {}
    for grant in grants:
        for version in (4, 6):
            if (hop := grant.hop(version)) is None:
                continue
            found = wanted.setdefault(ip_network(hop), set())
            found.update(p for name in grant.groups if (p := sets[name, version]))
    return wanted


def accept(accepted: Accepted, prefixes: frozenset[Network], hops: Iterable[Network]) -> None:
    """Note one accepting statement: these prefixes via any of these next hops."""
    if prefixes:
        for hop in hops:
            accepted.setdefault(hop, set()).add(prefixes)


class Canonical:
    """A set of prefixes read from a config, as the plan's equal one: compared element by
    element once per set read, not once per next hop or listen range it is used for."""

    def __init__(self, sets: GroupSets) -> None:
        self._plan = {prefixes: prefixes for prefixes in sets.values()}
        self._seen: dict[int, frozenset[Network]] = {}

    def __call__(self, prefixes: frozenset[Network]) -> frozenset[Network]:
        if id(prefixes) not in self._seen:
            self._seen[id(prefixes)] = self._plan.get(prefixes, prefixes)
        return self._seen[id(prefixes)]


def differing(accepted: Accepted, wanted: Accepted, canonical: Canonical) -> list[Pair]:
    """The (prefix, next hop) pairs only one side accepts; each next hop's prefixes expanded
    only where the two sides factor them differently."""
    found: list[Pair] = []
    for hop in accepted.keys() | wanted.keys():
        mine = {canonical(p) for p in accepted.get(hop, ())}
        theirs = wanted.get(hop, set())
        if mine != theirs:
            found += [(p, hop) for p in frozenset().union(*mine) ^ frozenset().union(*theirs)]
    return sorted(found, key=lambda pair: (pair[0].version, str(pair)))


def shown(pairs: list[Pair]) -> str:
    return ", ".join(f"{p} via {h.network_address}" for p, h in pairs[:5])


# where a statement is, asked only when there is something to report there
Where = Callable[[], Position]


@dataclass(frozen=True)
class Neighbor:
    """One neighbour statement: a fixed address, or a range of dynamic neighbours."""

    peer: Address | Network
    peer_as: int | None
    where: Where
    passive: bool = False
    families: tuple[str, ...] = ()
    add_paths_send: int = 0
    add_paths_receive: bool = False
    route_reflector_client: bool = False
    ttl_security_hops: int | None = None  # GTSM
    next_hop_unchanged: bool = False  # towards an eBGP peer

    def covers(self, address: Address) -> bool:
        if isinstance(self.peer, IPv4Network | IPv6Network):
            return address in self.peer
        return address == self.peer


@dataclass(frozen=True)
class Speaker:
    name: str
    kind: str
    file: str
    address: Address
    asn: int | None
    where: Where
    # (family, towards eBGP peers) → most equal paths installed per prefix; 1 where unsaid
    multipath: Mapping[tuple[str, bool], int] = field(default_factory=dict)
    neighbors: tuple[Neighbor, ...] = field(default=())

    def width(self, family: str, *, ebgp: bool) -> int:
        return self.multipath.get((family, ebgp), 1)
