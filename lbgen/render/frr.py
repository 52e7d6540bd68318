"""FRR: an upstream router (bgpd + zebra in one integrated frr.conf), a reflector (bgpd taking
the LB pods as dynamic neighbours), their daemons file, the zebra.conf the gobgp flavour pairs
with gobgpd, and the password lines `lbgen box-config` adds on the box (never in out/)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

from lbgen.plan import (
    BoxPassword,
    BoxPasswords,
    PrefixGroup,
    ReflectorPlan,
    RouteGrant,
    RouterPlan,
)
from lbgen.render.text import generated_by, header, render_template


@dataclass(frozen=True)
class Family:
    """FRR's words for one address family in prefix lists and matches."""

    version: int
    ip: str  # "ip" or "ipv6"
    suffix: str  # "" or "6": list names per family
    host: int  # a host route's length: 32 or 128


FAMILIES = (Family(4, "ip", "", 32), Family(6, "ipv6", "6", 128))


@dataclass(frozen=True)
class PrefixList:
    """One group's service prefixes of one family: listed once, matched by every node's entry."""

    group: str
    family: Family
    prefixes: tuple[IPv4Network | IPv6Network, ...]

    @property
    def name(self) -> str:
        return f"lbgen-prefixes{self.family.suffix}-{self.group}"


def prefix_lists(groups: Sequence[PrefixGroup]) -> list[PrefixList]:
    """Per group, its IPv4 list, then its IPv6 one (each when it has prefixes of that family)."""
    return [
        PrefixList(group.name, family, group.of(family.version))
        for group in groups
        for family in FAMILIES
        if group.of(family.version)
    ]


@dataclass(frozen=True)
class Accept:
    """One route-map entry: a group's prefixes of one family, only via these next hops."""

    prefixes: PrefixList
    hops: str  # the name of the next-hop prefix list


@dataclass(frozen=True)
class HopList:
    name: str
    family: Family
    hops: tuple[IPv4Address | IPv6Address, ...]


def router_filters(router: RouterPlan) -> tuple[list[HopList], list[Accept]]:
    """A router: per group and family, one entry naming the nodes that may carry the group."""
    lists = {(p.group, p.family): p for p in prefix_lists(router.groups)}
    hop_lists, accepts = [], []
    for group, grants in router.carriers():
        for family in FAMILIES:
            found = lists.get((group.name, family))
            hops = tuple(h for g in grants if (h := g.hop(family.version)) is not None)
            if found is None or not hops:
                continue
            hop_lists.append(HopList(f"lbgen-hops{family.suffix}-{group.name}", family, hops))
            accepts.append(Accept(found, hop_lists[-1].name))
    return hop_lists, accepts


def node_hops(grants: Sequence[RouteGrant]) -> list[HopList]:
    """A reflector: each node's own address per family (its LB pods' one next hop)."""
    return [
        HopList(f"lbgen-nh{family.suffix}-{grant.node}", family, (hop,))
        for grant in grants
        for family in FAMILIES
        if (hop := grant.hop(family.version)) is not None
    ]


def node_accepts(grants: Sequence[RouteGrant], lists: Sequence[PrefixList]) -> list[Accept]:
    """A reflector: per node, an entry per group and family it may carry, via itself."""
    by_key = {(p.group, p.family): p for p in lists}
    return [
        Accept(found, f"lbgen-nh{family.suffix}-{grant.node}")
        for grant in grants
        for name in grant.groups
        for family in FAMILIES
        if (found := by_key.get((name, family))) is not None
        and grant.hop(family.version) is not None
    ]


@dataclass(frozen=True)
class LbGroup:
    """The LB pods one listen range takes in, and the grants their routes may use."""

    name: str
    peers: IPv4Network | IPv6Network
    grants: tuple[RouteGrant, ...]


def lb_groups(rr: ReflectorPlan) -> list[LbGroup]:
    """One peer-group per distinct range of LB peers (each node's pod subnet, or the pod range):
    a pod lands in the group of the longest range holding it, and may announce only via the
    nodes that range belongs to."""
    by_peers: dict[IPv4Network | IPv6Network, list[RouteGrant]] = {}
    for grant in rr.grants:
        by_peers.setdefault(grant.peers, []).append(grant)
    return [
        LbGroup(f"lbs-{re.sub('[.:/]', '-', str(peers))}", peers, tuple(grants))
        for peers, grants in sorted(by_peers.items(), key=lambda item: _network_key(item[0]))
    ]


def _network_key(network: IPv4Network | IPv6Network) -> tuple[int, int, int]:
    return network.version, int(network.network_address), network.prefixlen


def render_frr_conf(router: RouterPlan, source: str) -> str:
    hop_lists, accepts = router_filters(router)
    return render_template(
        "frr/frr.conf.j2",
        header=header(source, "!"),
        router=router,
        prefix_lists=prefix_lists(router.groups),
        hop_lists=hop_lists,
        accepts=accepts,
        families=router.families,
        discards=router.prefixes,
    )


def render_reflector_frr(rr: ReflectorPlan, source: str) -> str:
    lists = prefix_lists(rr.groups)
    return render_template(
        "frr/reflector.conf.j2",
        header=header(source, "!"),
        rr=rr,
        prefix_lists=lists,
        hop_lists=node_hops(rr.grants),
        groups=[(group, node_accepts(group.grants, lists)) for group in lb_groups(rr)],
        families=rr.families,
    )


# what frrinit.sh's ulimit -n is without MAX_FDS (Debian's frr.service: LimitNOFILE=1024)
DEFAULT_FDS = 1024
FDS_BESIDE_SESSIONS = 128  # zebra's socket, vty, logs, listeners


def reflector_fds(rr: ReflectorPlan) -> int:
    """Open files a reflector's bgpd needs: a socket per session, up to the listen limit."""
    return max(DEFAULT_FDS, rr.listen_limit + len(rr.routers) + FDS_BESIDE_SESSIONS)


def render_frr_daemons(source: str, *, staticd: bool, max_fds: int | None = None) -> str:
    return render_template(
        "frr/daemons.j2", header=header(source, "#"), staticd=staticd, max_fds=max_fds
    )


def render_zebra_conf(router: RouterPlan, source: str) -> str:
    return render_template("frr/zebra.conf.j2", header=header(source, "!"), router=router)


def render_staticd_conf(router: RouterPlan, source: str) -> str:
    """The gobgp flavour's discard routes: staticd beside zebra (FRR's frr.conf has them)."""
    return render_template(
        "frr/staticd.conf.j2", header=header(source, "!"), router=router, discards=router.prefixes
    )


def router_passwords(router: RouterPlan, source: str) -> BoxPasswords | None:
    files = [
        BoxPassword(neighbor=str(rr.address), file=rr.password_file)
        for rr in router.reflectors
        if rr.password_file is not None
    ]
    return _passwords(router.asn, files, source)


def reflector_passwords(rr: ReflectorPlan, source: str) -> BoxPasswords | None:
    files = [
        BoxPassword(neighbor=str(r.address), file=r.password_file)
        for r in rr.routers
        if r.password_file is not None
    ]
    if rr.lb_password_file is not None:
        files += [BoxPassword(neighbor=g.name, file=rr.lb_password_file) for g in lb_groups(rr)]
    return _passwords(rr.asn, files, source)


def _passwords(asn: int, files: list[BoxPassword], source: str) -> BoxPasswords | None:
    if not files:
        return None
    return BoxPasswords(header=generated_by(source), source=source, asn=asn, passwords=tuple(files))


def render_frr_passwords(config: BoxPasswords, passwords: Sequence[tuple[BoxPassword, str]]) -> str:
    """The lines `lbgen box-config` appends to a box's frr.conf: each neighbour's password, read
    from its file on the box. They never reach out/ or git."""
    return render_template(
        "frr/passwords.conf.j2",
        header=header(config.source, "!"),
        asn=config.asn,
        passwords=list(passwords),
    )
