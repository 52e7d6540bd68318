"""What the testbed reads back: a router's FIB per service prefix, and what a client behind a
router gets from a VIP."""

from __future__ import annotations

import json
import subprocess
import sys
from ipaddress import IPv4Address, IPv4Network

from lbgen.plan import Plan
from lbgen.testbed.netns import inside


def fib_nexthops(netns: str, prefix: IPv4Network) -> set[IPv4Address]:
    """The next hops of `prefix` in a namespace's FIB (one route, or an ECMP one)."""
    shown = subprocess.run(
        ["ip", "-n", netns, "-j", "route", "show", str(prefix)],
        capture_output=True,
        text=True,
        check=False,
    )
    hops: set[IPv4Address] = set()
    for route in json.loads(shown.stdout or "[]"):
        if "nexthops" in route:
            hops |= {IPv4Address(h["gateway"]) for h in route["nexthops"]}
        elif "gateway" in route:
            hops.add(IPv4Address(route["gateway"]))
    return hops


def reach_commands(plan: Plan, client_netns: str) -> list[str]:
    """One command a VIP and port that reaches it from a client's namespace."""
    return [
        f"ip netns exec {client_netns} curl -s http://{vip}:{p.port}/"
        if p.protocol == "TCP"
        else f"ip netns exec {client_netns} nc -u {vip} {p.port}"
        for s in plan.services
        for vip in s.vips
        for p in s.ports
    ]


_ASK = (
    "import socket,sys\n"
    "for _ in range(int(sys.argv[3])):\n"
    "    s=socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)\n"
    "    print(s.recv(200).decode().strip()); s.close()\n"
)


def ask(client_netns: str, vip: str, port: int, connections: int) -> list[str]:
    """What a client gets back from `connections` new TCP connections to vip:port."""
    argv = [sys.executable, "-c", _ASK, vip, str(port), str(connections)]
    done = subprocess.run(
        inside(client_netns, *argv), capture_output=True, text=True, timeout=120, check=True
    )
    return done.stdout.splitlines()
