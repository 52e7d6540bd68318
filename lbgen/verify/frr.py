"""Read the BGP speaker back out of a rendered FRR frr.conf (the subset lbgen writes)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from ipaddress import IPv4Address, ip_address

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
    rr_client: bool = False


def read_frr(text: str, file: str, name: str, address: IPv4Address) -> Speaker:
    asn: int | None = None
    asn_line = 1
    multipath = 1
    default_ipv4 = True
    section = ""
    facts: dict[str, _Seen] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("!", 1)[0].rstrip()
        words = line.split()
        if not words:
            continue
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
        elif words[0] == "neighbor" and len(words) >= 3:
            peer = words[1]
            entry = facts.setdefault(peer, _Seen(number, raw.index("neighbor") + 1))
            option = words[2]
            if option == "remote-as":
                entry.remote_as = int(words[3]) if words[3].isdigit() else None
            elif option == "passive":
                entry.passive = True
            elif option == "activate" and section == "ipv4":
                entry.ipv4 = True
            elif option == "disable-addpath-rx" and section == "ipv4":
                entry.no_addpath_rx = True
            elif option == "route-reflector-client" and section == "ipv4":
                entry.rr_client = True
    neighbors = []
    for peer, entry in facts.items():
        activated = default_ipv4 if entry.ipv4 is None else entry.ipv4
        neighbors.append(
            Neighbor(
                peer=_address(peer),
                peer_as=entry.remote_as,
                where=partial(Position, file, entry.line, entry.column),
                passive=entry.passive,
                families=("ipv4-unicast",) if activated else (),
                # FRR advertises add-paths receive for every activated family unless disabled
                add_paths_receive=activated and not entry.no_addpath_rx,
                route_reflector_client=entry.rr_client,
            )
        )
    return Speaker(
        name=name,
        kind="router",
        file=file,
        address=address,
        asn=asn,
        where=partial(Position, file, asn_line, 1),
        multipath=multipath,
        neighbors=tuple(neighbors),
    )


def _address(text: str) -> IPv4Address:
    parsed = ip_address(text)
    if not isinstance(parsed, IPv4Address):
        raise ValueError(f"not an IPv4 neighbour: {text}")
    return parsed
