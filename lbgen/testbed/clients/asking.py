"""What a client in a namespace gets from a VIP: answers to new connections (TCP, UDP, from
chosen source ports), and connections held or churned across an event (the clients in
flows.py and churn.py, run in the namespace)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from typing import Any

from lbgen.errors import LbgenError
from lbgen.plan import Plan
from lbgen.testbed.host.netns import in_netns, inside
from lbgen.testbed.model.shapes import url_host

# one flow's exchange on its socket: (the socket, its position among the flows) → the answer
Exchange = Callable[[socket.socket, int], str]


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


def _flows(count: int, kind: socket.SocketKind, vip: str, exchange: Exchange) -> list[str]:
    """`count` flows to `vip`, each on a socket of its own: what `exchange` got on each (its
    position among them given), or "error <kind>" where it failed."""
    got = []
    for n in range(count):
        conn = socket.socket(socket.AF_INET6 if ":" in vip else socket.AF_INET, kind)
        try:
            got.append(exchange(conn, n))
        except OSError as error:
            got.append(f"error {type(error).__name__}")
        finally:
            conn.close()
    return got


def _requests(netns: str, bind: str, vip: str, port: int, source_ports: list[int]) -> list[str]:
    """One HTTP/1.0 request a connection from inside `netns`, from each source port in turn
    (0: any): each answer's body, or "error <kind>" where the connection failed."""

    def request(conn: socket.socket, n: int) -> str:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        conn.settimeout(5)
        if bind or source_ports[n]:
            conn.bind((bind, source_ports[n]))
        conn.connect((vip, port))
        conn.sendall(b"GET / HTTP/1.0\r\nHost: vip\r\n\r\n")
        answer = b""
        while chunk := conn.recv(4096):
            answer += chunk
        return answer.partition(b"\r\n\r\n")[2].decode().strip()

    return in_netns(netns, lambda: _flows(len(source_ports), socket.SOCK_STREAM, vip, request))


def ask_udp(client_netns: str, vip: str, port: int, datagrams: int) -> list[str]:
    """The answers to `datagrams` UDP datagrams to vip:port, each its own flow (a socket of
    its own), "error <kind>" after 3 s without one."""

    def datagram(conn: socket.socket, _n: int) -> str:
        conn.settimeout(3)
        conn.sendto(b"hello", (vip, port))
        return conn.recv(2048).decode().strip()

    return in_netns(client_netns, lambda: _flows(datagrams, socket.SOCK_DGRAM, vip, datagram))


def http(
    netns: str, url: str, *, put: dict[str, Any] | None = None, timeout: float = 5
) -> tuple[int, str]:
    """An HTTP GET (or a PUT of a JSON object) from inside a namespace: its status and body;
    status 0 and the error where there was no answer."""

    def request() -> tuple[int, str]:
        data = json.dumps(put).encode() if put is not None else None
        headers = {"Content-Type": "application/json"} if put is not None else {}
        method = "PUT" if put is not None else "GET"
        asked = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310 -- the testbed's own URLs
        try:
            with urllib.request.urlopen(asked, timeout=timeout) as answer:  # noqa: S310
                return int(answer.status), answer.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")
        except OSError as error:
            return 0, str(error)

    return in_netns(netns, request)


def ask(client_netns: str, vip: str, port: int, connections: int) -> list[str]:
    """The answers to `connections` HTTP requests to vip:port, each on a new connection
    ("error <kind>" for one that failed)."""
    return _requests(client_netns, "", vip, port, [0] * connections)


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
    (lbgen.testbed.clients.flows), each speaking every `every` seconds meanwhile (0: silent):
    `finish()` asks on each again and says what each got."""

    def __init__(
        self, netns: str, vip: str, port: int, count: int, *, bind: str = "", every: float = 0
    ) -> None:
        argv = ["lbgen.testbed.clients.flows", vip, str(port), str(count), "--bind", bind]
        argv += ["--every", str(every)]
        super().__init__(netns, argv, f"{count} connections to {vip}:{port}")

    def finish(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self._finish()
        return found


class Churn(_AcrossEvent):
    """Short connections from a namespace to vip:port across an event, `count` at a time, each
    living `lifetime` seconds (clients/churn.py): `finish()` lets the open ones end and says how
    many were made and which broke."""

    def __init__(self, netns: str, vip: str, port: int, count: int, lifetime: float) -> None:
        argv = [
            "lbgen.testbed.clients.churn",
            vip,
            str(port),
            str(count),
            "--lifetime",
            str(lifetime),
        ]
        super().__init__(netns, [*argv, "--every", "0.5"], f"connections to {vip}:{port}")

    def finish(self) -> dict[str, Any]:
        found: dict[str, Any] = self._finish()
        return found
