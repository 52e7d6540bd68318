"""A BGP speaker as its rendered config describes it, whatever the daemon."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_network

from lbgen.errors import Position
from lbgen.plan import RouteGrant

# the plan's families by the name both daemons' readers give them (gobgpd's afi-safi-name)
FAMILIES = {"ipv4": "ipv4-unicast", "ipv6": "ipv6-unicast"}
Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network
Pair = tuple[Network, Network]  # (service prefix, next hop as a host network)


def granted_pairs(grants: Iterable[RouteGrant]) -> set[Pair]:
    """Every (prefix, next hop) an import policy must accept: each grant's prefixes of each
    family with the node's address of that family."""
    pairs: set[Pair] = set()
    for grant in grants:
        for hop, prefixes in ((grant.next_hop, grant.prefixes), (grant.next_hop6, grant.prefixes6)):
            if hop is not None:
                host = ip_network(hop)
                pairs |= {(prefix, host) for prefix in prefixes}
    return pairs


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
