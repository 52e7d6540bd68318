"""FRR: an upstream router (bgpd + zebra in one integrated frr.conf), a reflector (bgpd taking
the LB pods as dynamic neighbours), their daemons file, the zebra.conf the gobgp flavour pairs
with gobgpd, and the password lines `lbgen box-config` adds on the box (never in out/)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

from lbgen.plan import BoxPassword, BoxPasswords, ReflectorPlan, RouteGrant, RouterPlan
from lbgen.render.text import generated_by, header, render_template


@dataclass(frozen=True)
class Filter:
    """The prefix lists and route-map match of one node's grant in one address family."""

    node: str
    ip: str  # "ip" or "ipv6": FRR's word for the family in prefix lists and matches
    suffix: str  # "" or "6": list names per family
    prefixes: tuple[IPv4Network | IPv6Network, ...]
    next_hop: IPv4Address | IPv6Address
    host: int  # a host route's length: 32 or 128


def filters(grants: Sequence[RouteGrant]) -> list[Filter]:
    """Per grant, its IPv4 filter, then its IPv6 one (each when it grants that family)."""
    found = []
    for grant in grants:
        if grant.prefixes and grant.next_hop is not None:
            found.append(Filter(grant.node, "ip", "", grant.prefixes, grant.next_hop, 32))
        if grant.prefixes6 and grant.next_hop6 is not None:
            found.append(Filter(grant.node, "ipv6", "6", grant.prefixes6, grant.next_hop6, 128))
    return found


@dataclass(frozen=True)
class LbGroup:
    """The LB pods one listen range takes in, and the grants their routes may use."""

    name: str
    peers: IPv4Network | IPv6Network
    grants: tuple[RouteGrant, ...]

    @property
    def filters(self) -> list[Filter]:
        return filters(self.grants)


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
    return render_template(
        "frr/frr.conf.j2",
        header=header(source, "!"),
        router=router,
        filters=filters(router.grants),
        families=router.families,
        discards=router.prefixes,
    )


def render_reflector_frr(rr: ReflectorPlan, source: str) -> str:
    return render_template(
        "frr/reflector.conf.j2",
        header=header(source, "!"),
        rr=rr,
        groups=lb_groups(rr),
        filters=filters(rr.grants),
        families=rr.families,
    )


def render_frr_daemons(source: str, *, staticd: bool) -> str:
    return render_template("frr/daemons.j2", header=header(source, "#"), staticd=staticd)


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
