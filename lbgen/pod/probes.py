"""Readiness and liveness, read from /proc: a BGP session up, IPVS programmed, a process alive."""

from __future__ import annotations

import json
import socket
import struct
from collections.abc import Iterable, Mapping
from ipaddress import IPv4Address
from pathlib import Path

BGP_PORT = 179
TCP_ESTABLISHED = "01"


def _address(hex_pair: str) -> tuple[IPv4Address, int]:
    address, port = hex_pair.split(":")
    # /proc/net/tcp prints the address in host byte order
    packed = struct.pack("<I", int(address, 16))
    return IPv4Address(socket.inet_ntoa(packed)), int(port, 16)


def established_bgp_peers(proc_net_tcp: str, local: IPv4Address) -> set[IPv4Address]:
    """Peers with an established TCP session to or from port 179 of `local`."""
    peers = set()
    for line in proc_net_tcp.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 4 or fields[3] != TCP_ESTABLISHED:
            continue
        (src, sport), (dst, dport) = _address(fields[1]), _address(fields[2])
        if src == local and BGP_PORT in (sport, dport):
            peers.add(dst)
    return peers


def ipvs_services(proc_net_ip_vs: str) -> set[tuple[str, IPv4Address, int]]:
    """(protocol, VIP, port) of each virtual service in /proc/net/ip_vs."""
    found = set()
    for line in proc_net_ip_vs.splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0] in ("TCP", "UDP") and ":" in fields[1]:
            address, port = fields[1].split(":")
            found.add((fields[0], IPv4Address(int(address, 16)), int(port, 16)))
    return found


def readiness_problems(
    peers: set[IPv4Address],
    reflectors: Iterable[IPv4Address],
    programmed: set[tuple[str, IPv4Address, int]],
    wanted: Iterable[tuple[str, IPv4Address, int]],
) -> list[str]:
    problems = []
    if not peers & set(reflectors):
        problems.append("no BGP session with any reflector is established")
    missing = sorted(set(wanted) - programmed)
    if missing:
        shown = ", ".join(f"{proto} {vip}:{port}" for proto, vip, port in missing)
        problems.append(f"IPVS has no virtual service for {shown}")
    return problems


def process_state(stat: str) -> str:
    """The state letter of /proc/<pid>/stat (after the command name in parentheses)."""
    return stat.rsplit(")", 1)[1].split(maxsplit=1)[0]


def ready(lb_json: str, env: Mapping[str, str], proc: Path = Path("/proc")) -> list[str]:
    """The readiness probe. It runs every few seconds, so it reads the few fields it needs from
    lb.json (validated when the pod started) with `json`, not the plan's models."""
    service = json.loads(lb_json)["service"]
    try:
        pod_ip = IPv4Address(env.get("POD_IP", ""))
    except ValueError:
        return ["POD_IP is not set to the pod's IPv4 address (downward API status.podIP)"]
    tcp = (proc / "net/tcp").read_text(encoding="ascii")
    try:
        ip_vs = (proc / "net/ip_vs").read_text(encoding="ascii")
    except OSError:
        ip_vs = ""
    return readiness_problems(
        established_bgp_peers(tcp, pod_ip),
        (IPv4Address(rr["address"]) for rr in service["reflectors"]),
        ipvs_services(ip_vs),
        (
            (p["protocol"], IPv4Address(vip), p["port"])
            for vip in service["vips"]
            for p in service["ports"]
        ),
    )
