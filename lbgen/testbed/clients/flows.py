"""Long-lived client connections across an event: open N keep-alive HTTP connections to a VIP,
ask once on each (which LB and backend answered), wait for a line on stdin (the event happened),
ask again on each, and print one JSON object: per connection, both answers or why it broke.
With `--every S` each connection also speaks every S seconds meanwhile, as an application's
keep-alive ping does: a router's resilient group counts a flow as active only while its packets
come within the group's idle timer. Run inside a client's namespace:
`python -m lbgen.testbed.clients.flows VIP PORT N [--bind ADDRESS] [--every S]`."""

from __future__ import annotations

import argparse
import json
import select
import socket
import sys
from typing import Any

REQUEST = b"GET / HTTP/1.1\r\nHost: vip\r\n\r\n"


def ask(conn: socket.socket) -> str:
    """One request on a keep-alive connection; the answer's body (one line)."""
    conn.sendall(REQUEST)
    got = b""
    while b"\r\n\r\n" not in got:
        chunk = conn.recv(4096)
        if not chunk:
            raise ConnectionError("closed by the peer")
        got += chunk
    head, _, body = got.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        chunk = conn.recv(4096)
        if not chunk:
            raise ConnectionError("closed by the peer")
        body += chunk
    return body.decode().strip()


def fields(answer: str) -> dict[str, str]:
    """`lbgen-testbed backend=b peer=p` → {backend: b, peer: p}."""
    return dict(part.split("=", 1) for part in answer.split()[1:] if "=" in part)


def _wait(conns: list[socket.socket], every: float) -> dict[int, str]:
    """Until a line comes on stdin, ask on each connection every `every` seconds (never, if 0);
    the connections that broke meanwhile, and why."""
    broken: dict[int, str] = {}
    while not select.select([sys.stdin], [], [], every or None)[0]:
        for index, conn in enumerate(conns):
            if index not in broken:
                try:
                    ask(conn)
                except OSError as error:
                    broken[index] = type(error).__name__
    sys.stdin.readline()
    return broken


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("vip")
    parser.add_argument("port", type=int)
    parser.add_argument("count", type=int)
    parser.add_argument("--bind", default="")
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--every", type=float, default=0.0)
    args = parser.parse_args()
    conns: list[socket.socket] = []
    before: list[dict[str, str]] = []
    for _ in range(args.count):
        conn = socket.create_connection(
            (args.vip, args.port), timeout=args.timeout, source_address=(args.bind, 0)
        )
        before.append({**fields(ask(conn)), "source_port": str(conn.getsockname()[1])})
        conns.append(conn)
    sys.stdout.write("open\n")
    sys.stdout.flush()
    broken = _wait(conns, args.every)
    results: list[dict[str, Any]] = []
    for index, (conn, first) in enumerate(zip(conns, before, strict=True)):
        try:
            if index in broken:
                results.append({"before": first, "broken": broken[index]})
                continue
            results.append({"before": first, "after": fields(ask(conn))})
        except OSError as error:
            results.append({"before": first, "broken": type(error).__name__})
        finally:
            conn.close()
    sys.stdout.write(json.dumps(results) + "\n")


if __name__ == "__main__":
    main()
