"""What a router's kernel holds and decides, read from its namespace: a prefix's next hops per
table, lbgen router-fib's lease and its rules' counters, the next hop it picks for a flow."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping, Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

from lbgen.runtime.fib.kernel import NFT_TABLE as FIB_NFT_TABLE
from lbgen.runtime.fib.kernel import UNLEASED
from lbgen.testbed.host.netns import inside


def fib_nexthops(
    netns: str, prefix: IPv4Network | IPv6Network, table: str = "main"
) -> set[IPv4Address | IPv6Address]:
    """The next hops of `prefix` in a namespace's FIB (one route, or an ECMP one), in `table`."""
    argv = ["ip", "-n", netns, f"-{prefix.version}", "-j", "route", "show", str(prefix)]
    shown = subprocess.run(
        [*argv, "table", table],
        capture_output=True,
        text=True,
        check=False,
    )
    hops: set[IPv4Address | IPv6Address] = set()
    for route in json.loads(shown.stdout or "[]"):
        if "nexthops" in route:
            hops |= {ip_address(h["gateway"]) for h in route["nexthops"] if "gateway" in h}
        elif "gateway" in route:
            hops.add(ip_address(route["gateway"]))
    return hops


def _router_fib_set(netns: str, name: str) -> str:
    """`nft -j list set` of lbgen router-fib's table in a namespace ("" when it has none)."""
    done = subprocess.run(
        inside(netns, "nft", "-j", "list", "set", "inet", FIB_NFT_TABLE, name),
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout if done.returncode == 0 else ""


def lease_alive(netns: str) -> bool:
    """lbgen router-fib's lease holds in the namespace: its rule marks packets to a service
    prefix, which its table then routes."""
    return '"elem"' in _router_fib_set(netns, "lease")


def _counted(netns: str) -> list[tuple[str, int]]:
    """Each counter of lbgen router-fib's prerouting rules: its rule's comment, its packets."""
    done = subprocess.run(
        inside(netns, "nft", "-j", "list", "chain", "inet", FIB_NFT_TABLE, "prerouting"),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        return []
    return [
        (item["rule"].get("comment", ""), int(expression["counter"]["packets"]))
        for item in json.loads(done.stdout).get("nftables", [])
        if "rule" in item
        for expression in item["rule"].get("expr", [])
        if "counter" in expression
    ]


def marked_packets(netns: str) -> int:
    """How many packets lbgen router-fib's rules marked in the namespace (their counters)."""
    return sum(packets for comment, packets in _counted(netns) if comment != UNLEASED)


def unleased_packets(netns: str) -> int:
    """Packets to a service prefix that lbgen router-fib did not mark since its table was made
    (no lease: zebra's route forwarded them)."""
    return sum(packets for comment, packets in _counted(netns) if comment == UNLEASED)


def route_choices(
    netns: str,
    destination: str,
    source: str,
    ports: Sequence[int],
    *,
    iif: str | None = None,
    mark: int | None = None,
) -> dict[int, str]:
    """The next hop the kernel in `netns` picks for a TCP flow from each of `ports` of `source`
    to `destination` port 80 (`ip route get … sport S`: as a packet forwarded from `iif` when
    given, carrying `mark` when given); "" where it has none."""
    extra = (f" iif {iif}" if iif else "") + (f" mark {mark:#x}" if mark else "")
    lines = [
        f"route get {destination} from {source}{extra} ipproto tcp sport {port} dport 80"
        for port in ports
    ]
    done = subprocess.run(
        ["ip", "-n", netns, "-o", "-batch", "-"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        check=False,
    )
    found = [
        line.split(" via ", 1)[1].split()[0] if " via " in line else ""
        for line in done.stdout.splitlines()
        if line.strip() and not line.startswith(" ")
    ]
    return dict(zip(ports, found, strict=True))


def forwarding_choices(
    netns: str,
    destination: str,
    source: str,
    ports: Sequence[int],
    *,
    iif: str,
    fwmark: int | None,
) -> dict[int, str]:
    """route_choices as the router forwards a packet from `iif`: through lbgen router-fib's
    table while its lease marks packets (`fwmark`, where the router has one), else the main
    table's route (zebra's hash-threshold one)."""
    mark = fwmark if fwmark is not None and lease_alive(netns) else None
    return route_choices(netns, destination, source, ports, iif=iif, mark=mark)


def moved(before: Mapping[int, str], after: Mapping[int, str], gone: str = "") -> int:
    """Flows (by source port) that were on a next hop still there (not `gone`) and are on
    another one now: what a scale event cost the flows it had no reason to touch."""
    return sum(1 for port, hop in before.items() if hop != gone and after[port] != hop)
