"""What the testbed reads back: a router's FIB per service prefix, and what a client behind a
router gets from a VIP."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping, Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address
from typing import Any

from lbgen.errors import LbgenError
from lbgen.plan import Plan
from lbgen.runtime.fib.kernel import NFT_TABLE as FIB_NFT_TABLE
from lbgen.runtime.fib.kernel import UNLEASED
from lbgen.testbed.netns import inside
from lbgen.testbed.shapes import url_host


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


def reach_commands(plan: Plan, client_netns: str) -> list[str]:
    """One command a VIP and port that reaches it from a client's namespace."""
    return [
        f"ip netns exec {client_netns} curl -s http://{url_host(vip)}:{p.port}/"
        if p.protocol == "TCP"
        else f"ip netns exec {client_netns} nc -u {vip} {p.port}"
        for s in plan.services
        for vip in s.all_vips
        for p in s.ports
    ]


# one HTTP/1.0 request a connection, from each source port in turn (0: any), to vip:port;
# prints the answers' bodies as a JSON list ("error <kind>" where a connection failed)
_REQUESTS = (
    "import json,socket,sys\n"
    "bind, vip, port = sys.argv[1], sys.argv[2], int(sys.argv[3]); got = []\n"
    "family = socket.AF_INET6 if ':' in vip else socket.AF_INET\n"
    "for sport in json.loads(sys.argv[4]):\n"
    "    s = socket.socket(family); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
    "    s.settimeout(5); answer = b''\n"
    "    try:\n"
    "        if bind or sport: s.bind((bind, sport))\n"
    "        s.connect((vip, port))\n"
    "        s.sendall(b'GET / HTTP/1.0\\r\\nHost: vip\\r\\n\\r\\n')\n"
    "        while chunk := s.recv(4096): answer += chunk\n"
    "        got.append(answer.partition(b'\\r\\n\\r\\n')[2].decode().strip())\n"
    "    except OSError as error: got.append('error ' + type(error).__name__)\n"
    "    finally: s.close()\n"
    "print(json.dumps(got))\n"
)


def _requests(netns: str, bind: str, vip: str, port: int, source_ports: list[int]) -> list[str]:
    argv = [sys.executable, "-c", _REQUESTS, bind, vip, str(port), json.dumps(source_ports)]
    done = subprocess.run(
        inside(netns, *argv), capture_output=True, text=True, timeout=1800, check=True
    )
    found: list[str] = json.loads(done.stdout)
    return found


# one datagram at a time to vip:port, each from a new socket (a new flow), each answer or
# "error timeout" after 3 s; prints them as a JSON list
_DATAGRAMS = (
    "import json,socket,sys\n"
    "vip, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]); got = []\n"
    "family = socket.AF_INET6 if ':' in vip else socket.AF_INET\n"
    "for _ in range(count):\n"
    "    s = socket.socket(family, socket.SOCK_DGRAM); s.settimeout(3)\n"
    "    try:\n"
    "        s.sendto(b'hello', (vip, port)); got.append(s.recv(2048).decode().strip())\n"
    "    except OSError as error: got.append('error ' + type(error).__name__)\n"
    "    finally: s.close()\n"
    "print(json.dumps(got))\n"
)


def ask_udp(client_netns: str, vip: str, port: int, datagrams: int) -> list[str]:
    """The answers to `datagrams` UDP datagrams to vip:port, each its own flow."""
    argv = [sys.executable, "-c", _DATAGRAMS, vip, str(port), str(datagrams)]
    done = subprocess.run(inside(client_netns, *argv), capture_output=True, text=True, check=True)
    found: list[str] = json.loads(done.stdout)
    return found


def ask(client_netns: str, vip: str, port: int, connections: int) -> list[str]:
    """The answers to `connections` HTTP requests to vip:port, each on a new connection
    ("error <kind>" for one that failed)."""
    return _requests(client_netns, "", vip, port, [0] * connections)


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


def ask_from_ports(
    netns: str, bind: str, vip: str, port: int, source_ports: list[int]
) -> dict[int, str]:
    """The answer to one HTTP request from each of `source_ports` of `bind` (a flow each, so
    a hashing scheduler's choice per flow can be read back)."""
    return dict(zip(source_ports, _requests(netns, bind, vip, port, source_ports), strict=True))


class _AcrossEvent:
    """A client module run in a namespace across an event: it opens its connections, says
    "open", waits for a line on stdin (the event happened), and prints one JSON document."""

    def __init__(self, netns: str, argv: Sequence[str], what: str) -> None:
        self.process = subprocess.Popen(
            inside(netns, sys.executable, "-m", *argv),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        opened = self.process.stdout.readline().strip()
        if opened != "open":
            self.process.kill()
            self.process.wait()
            raise LbgenError(f"the client could not open {what}")

    def _finish(self) -> Any:
        out, _ = self.process.communicate("go\n", timeout=300)
        return json.loads(out.strip().splitlines()[-1])


class Held(_AcrossEvent):
    """Long-lived connections from a namespace to vip:port, held open across an event
    (lbgen.testbed.flows), each speaking every `every` seconds meanwhile (0: silent):
    `finish()` asks on each again and says what each got."""

    def __init__(
        self, netns: str, vip: str, port: int, count: int, *, bind: str = "", every: float = 0
    ) -> None:
        argv = ["lbgen.testbed.flows", vip, str(port), str(count), "--bind", bind]
        argv += ["--every", str(every)]
        super().__init__(netns, argv, f"{count} connections to {vip}:{port}")

    def finish(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self._finish()
        return found


class Churn(_AcrossEvent):
    """Short connections from a namespace to vip:port across an event, `count` at a time, each
    living `lifetime` seconds (lbgen.testbed.churn): `finish()` lets the open ones end and says
    how many were made and which broke."""

    def __init__(self, netns: str, vip: str, port: int, count: int, lifetime: float) -> None:
        argv = ["lbgen.testbed.churn", vip, str(port), str(count), "--lifetime", str(lifetime)]
        super().__init__(netns, [*argv, "--every", "0.5"], f"connections to {vip}:{port}")

    def finish(self) -> dict[str, Any]:
        found: dict[str, Any] = self._finish()
        return found
