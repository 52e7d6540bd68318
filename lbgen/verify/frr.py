"""Read the BGP speaker back out of a rendered FRR frr.conf (the subset lbgen writes): a
router's neighbours, or a reflector's, whose LB pods come in through listen ranges."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from ipaddress import ip_address, ip_network

from lbgen.diagnostics import Position
from lbgen.verify.speaker import FAMILIES, Address, Neighbor, Network, Speaker


@dataclass
class _Seen:
    """What frr.conf says of one neighbour, as it is read line by line; the per-family switches
    as the set of address families (ipv4, ipv6) that set them."""

    line: int
    column: int
    remote_as: int | None = None
    passive: bool = False
    ipv4: bool | None = None  # activated in address-family ipv4 unicast; None: the default
    ipv6: bool = False  # activated in address-family ipv6 unicast
    no_addpath_rx: set[str] = field(default_factory=set)
    addpath_tx_all: set[str] = field(default_factory=set)
    rr_client: set[str] = field(default_factory=set)
    group: bool = False  # a peer-group: a neighbour only through its listen ranges
    ttl_hops: int | None = None
    next_hop_unchanged: set[str] = field(default_factory=set)


# addpath-tx-all-paths: every path, however many
ALL_PATHS = 1_000_000


def statements(text: str) -> Iterator[tuple[int, str, list[str]]]:
    """Each line of an frr.conf that says something: its number, the line as written (its
    indent tells a block's body from a new block) and its words, comments dropped."""
    for number, raw in enumerate(text.splitlines(), start=1):
        words = raw.split("!", 1)[0].split()
        if words:
            yield number, raw, words


def read_frr(text: str, file: str, name: str, address: Address, kind: str = "router") -> Speaker:
    asn: int | None = None
    asn_line = 1
    # (family, eBGP) → its maximum-paths (ibgp) or maximum-paths (eBGP)
    multipath: dict[tuple[str, bool], int] = {}
    default_ipv4 = True
    section = ""
    facts: dict[str, _Seen] = {}
    ranges: list[tuple[Network, str]] = []
    for number, raw, words in statements(text):
        if not raw.startswith(" "):
            section = ""
            if words[:2] == ["router", "bgp"] and len(words) >= 3:
                section, asn, asn_line = "bgp", int(words[2]), number
            continue
        if section == "" or words[0] == "exit":
            continue
        if words[0] == "address-family" and words[1:] in (["ipv4", "unicast"], ["ipv6", "unicast"]):
            section = words[1]
        elif words[0] == "exit-address-family":
            section = "bgp"
        elif words == ["no", "bgp", "default", "ipv4-unicast"]:
            default_ipv4 = False
        elif words[:2] == ["maximum-paths", "ibgp"] and section in FAMILIES:
            multipath[(FAMILIES[section], False)] = int(words[2])
        elif words[0] == "maximum-paths" and len(words) == 2 and section in FAMILIES:
            multipath[(FAMILIES[section], True)] = int(words[1])
        elif words[:3] == ["bgp", "listen", "range"] and words[4:5] == ["peer-group"]:
            ranges.append((ip_network(words[3]), words[5]))
        elif words[0] == "neighbor" and len(words) >= 3:
            entry = facts.setdefault(words[1], _Seen(number, raw.index("neighbor") + 1))
            _option(entry, words[2:], section)
    neighbors = []
    named: list[tuple[Address | Network, _Seen]] = [
        (ip_address(p), e) for p, e in facts.items() if not e.group
    ]
    listened = [(net, facts[group]) for net, group in ranges if group in facts]
    for peer, entry in [*named, *listened]:
        ipv4 = default_ipv4 if entry.ipv4 is None else entry.ipv4
        active = {f for f, on in (("ipv4", ipv4), ("ipv6", entry.ipv6)) if on}
        neighbors.append(
            Neighbor(
                peer=peer,
                peer_as=entry.remote_as,
                where=partial(Position, file, entry.line, entry.column),
                passive=entry.passive,
                families=tuple(FAMILIES[f] for f in sorted(active)),
                # a switch holds for the session only if every family it carries sets it
                # (FRR advertises add-paths receive for every activated family unless disabled)
                add_paths_receive=bool(active) and not (active & entry.no_addpath_rx),
                add_paths_send=ALL_PATHS if active and active <= entry.addpath_tx_all else 0,
                route_reflector_client=bool(active) and active <= entry.rr_client,
                ttl_security_hops=entry.ttl_hops,
                next_hop_unchanged=bool(active) and active <= entry.next_hop_unchanged,
            )
        )
    return Speaker(
        name=name,
        kind=kind,
        file=file,
        address=address,
        asn=asn,
        where=partial(Position, file, asn_line, 1),
        multipath=multipath,
        neighbors=tuple(neighbors),
    )


# per-neighbour switches of an address family → the fact whose set of families they join
_SWITCHES = {
    ("disable-addpath-rx",): "no_addpath_rx",
    ("addpath-tx-all-paths",): "addpath_tx_all",
    ("route-reflector-client",): "rr_client",
    ("attribute-unchanged", "next-hop"): "next_hop_unchanged",
}


def _option(entry: _Seen, words: list[str], section: str) -> None:
    """One `neighbor <peer> ...` line: `words` from the option on."""
    option = words[0]
    if option == "peer-group" and len(words) == 1:
        entry.group = True
    elif option == "remote-as":
        entry.remote_as = int(words[1]) if words[1].isdigit() else None
    elif words[:2] == ["ttl-security", "hops"] and len(words) == 3:
        entry.ttl_hops = int(words[2])
    elif option == "passive" and section not in FAMILIES:
        entry.passive = True
    elif words == ["activate"] and section in FAMILIES:
        setattr(entry, section, True)
    elif section in FAMILIES and (fact := _SWITCHES.get(tuple(words))) is not None:
        getattr(entry, fact).add(section)
