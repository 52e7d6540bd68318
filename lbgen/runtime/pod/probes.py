"""What the probes read from /proc: BGP sessions, a process's state (the IPVS table:
lbgen.runtime.ipvs)."""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterable
from ipaddress import IPv4Address, IPv6Address

Address = IPv4Address | IPv6Address
BGP_PORT = 179
TCP_ESTABLISHED = "01"


def _address(hex_pair: str) -> tuple[IPv4Address | IPv6Address, int]:
    address, port = hex_pair.split(":")
    # /proc/net/tcp{,6} prints the address as 32-bit words, each in host byte order
    words = [int(address[i : i + 8], 16) for i in range(0, len(address), 8)]
    packed = b"".join(struct.pack("<I", word) for word in words)
    if len(packed) == 4:
        return IPv4Address(socket.inet_ntoa(packed)), int(port, 16)
    return IPv6Address(packed), int(port, 16)


def established_bgp_peers(
    proc_net_tcp: str, local: IPv4Address | IPv6Address
) -> set[IPv4Address | IPv6Address]:
    """Peers with an established TCP session to or from port 179 of `local` (/proc/net/tcp
    for an IPv4 address, /proc/net/tcp6 for an IPv6 one)."""
    peers = set()
    for line in proc_net_tcp.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 4 or fields[3] != TCP_ESTABLISHED:
            continue
        (src, sport), (dst, dport) = _address(fields[1]), _address(fields[2])
        if src == local and BGP_PORT in (sport, dport):
            peers.add(dst)
    return peers


def readiness_problems(peers: set[Address], reflectors: Iterable[Address]) -> list[str]:
    """The readiness probe's BGP part (lbgen.runtime.pod.health adds the datapath's)."""
    if not peers & set(reflectors):
        return ["no BGP session with any reflector is established"]
    return []


def process_state(stat: str) -> str:
    """The state letter of /proc/<pid>/stat (after the command name in parentheses)."""
    return stat.rsplit(")", 1)[1].split(maxsplit=1)[0]
