"""Read the BGP speaker back out of a rendered FRR frr.conf (the subset lbgen writes): a
router's neighbours, or a reflector's, whose LB pods come in through listen ranges."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from ipaddress import IPv4Address, IPv4Network, ip_address

from lbgen.errors import Position
from lbgen.verify.speaker import Neighbor, Speaker


@dataclass
class _Seen:
    """What frr.conf says of one neighbour, as it is read line by line."""

    line: int
    column: int
    remote_as: int | None = None
    passive: bool = False
    ipv4: bool | None = None  # activated in address-family ipv4 unicast; None: the default
    no_addpath_rx: bool = False
    addpath_tx_all: bool = False
    rr_client: bool = False
    group: bool = False  # a peer-group: a neighbour only through its listen ranges
    ttl_hops: int | None = None
    next_hop_unchanged: bool = False


# addpath-tx-all-paths: every path, however many
ALL_PATHS = 1_000_000


def statements(text: str) -> Iterator[tuple[int, str, list[str]]]:
    """Each line of an frr.conf that says something: its number, the line as written (its
    indent tells a block's body from a new block) and its words, comments dropped."""
    for number, raw in enumerate(text.splitlines(), start=1):
        words = raw.split("!", 1)[0].split()
        if words:
            yield number, raw, words


def read_frr(
    text: str, file: str, name: str, address: IPv4Address, kind: str = "router"
) -> Speaker:
    asn: int | None = None
    asn_line = 1
    multipath = multipath_ebgp = 1
    default_ipv4 = True
    section = ""
    facts: dict[str, _Seen] = {}
    ranges: list[tuple[IPv4Network, str]] = []
    for number, raw, words in statements(text):
        if not raw.startswith(" "):
            section = ""
            if words[:2] == ["router", "bgp"] and len(words) >= 3:
                section, asn, asn_line = "bgp", int(words[2]), number
            continue
        if section == "" or words[0] == "exit":
            continue
        if words == ["address-family", "ipv4", "unicast"]:
            section = "ipv4"
        elif words[0] == "exit-address-family":
            section = "bgp"
        elif words == ["no", "bgp", "default", "ipv4-unicast"]:
            default_ipv4 = False
        elif words[:2] == ["maximum-paths", "ibgp"] and section == "ipv4":
            multipath = int(words[2])
        elif words[0] == "maximum-paths" and len(words) == 2 and section == "ipv4":
            multipath_ebgp = int(words[1])
        elif words[:3] == ["bgp", "listen", "range"] and words[4:5] == ["peer-group"]:
            ranges.append((IPv4Network(words[3]), words[5]))
        elif words[0] == "neighbor" and len(words) >= 3:
            entry = facts.setdefault(words[1], _Seen(number, raw.index("neighbor") + 1))
            _option(entry, words[2:], section)
    neighbors = []
    named: list[tuple[IPv4Address | IPv4Network, _Seen]] = [
        (_address(p), e) for p, e in facts.items() if not e.group
    ]
    listened = [(net, facts[group]) for net, group in ranges if group in facts]
    for peer, entry in [*named, *listened]:
        activated = default_ipv4 if entry.ipv4 is None else entry.ipv4
        neighbors.append(
            Neighbor(
                peer=peer,
                peer_as=entry.remote_as,
                where=partial(Position, file, entry.line, entry.column),
                passive=entry.passive,
                families=("ipv4-unicast",) if activated else (),
                # FRR advertises add-paths receive for every activated family unless disabled
                add_paths_receive=activated and not entry.no_addpath_rx,
                add_paths_send=ALL_PATHS if entry.addpath_tx_all else 0,
                route_reflector_client=entry.rr_client,
                ttl_security_hops=entry.ttl_hops,
                next_hop_unchanged=entry.next_hop_unchanged,
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
        multipath_ebgp=multipath_ebgp,
        neighbors=tuple(neighbors),
    )


# per-neighbour switches: (option, only inside address-family ipv4 unicast) → the fact it sets
_SWITCHES = {
    ("passive", False): "passive",
    ("activate", True): "ipv4",
    ("disable-addpath-rx", True): "no_addpath_rx",
    ("addpath-tx-all-paths", True): "addpath_tx_all",
    ("route-reflector-client", True): "rr_client",
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
    elif words == ["attribute-unchanged", "next-hop"] and section == "ipv4":
        entry.next_hop_unchanged = True
    else:
        fact = _SWITCHES.get((option, section == "ipv4"))
        if fact is not None:
            setattr(entry, fact, True)


def _address(text: str) -> IPv4Address:
    parsed = ip_address(text)
    if not isinstance(parsed, IPv4Address):
        raise ValueError(f"not an IPv4 neighbour: {text}")
    return parsed
