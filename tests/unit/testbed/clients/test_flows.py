"""The held connections' client (lbgen.testbed.clients.flows), on a keep-alive server on loopback:
each connection asks before and after the event and, with --every, speaks meanwhile; one the
server closes meanwhile is reported broken, not asked again."""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest


class _Answer(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    asked: list[int] = []  # noqa: RUF012 -- the class is the server's shared record
    close_after = 0  # a connection's requests before the server closes it (0: never)

    def do_GET(self) -> None:
        port = self.client_address[1]
        self.asked.append(port)
        body = f"lbgen-testbed at=backend peer=127.0.0.1 port={port}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        if self.close_after and self.asked.count(port) >= self.close_after:
            self.close_connection = True

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[http.server.ThreadingHTTPServer]:
    _Answer.asked = []
    _Answer.close_after = 0
    serving = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    thread = threading.Thread(target=serving.serve_forever, daemon=True)
    thread.start()
    yield serving
    serving.shutdown()
    serving.server_close()


def _held(port: int, count: int, every: float, seconds: float) -> list[dict[str, object]]:
    argv = [
        "lbgen.testbed.clients.flows",
        "127.0.0.1",
        str(port),
        str(count),
        "--every",
        str(every),
    ]
    client = subprocess.Popen(
        [sys.executable, "-m", *argv], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert client.stdout is not None
    assert client.stdout.readline().strip() == "open"
    time.sleep(seconds)
    out, _ = client.communicate("go\n", timeout=30)
    found: list[dict[str, object]] = json.loads(out.strip().splitlines()[-1])
    return found


def test_silent_connections_ask_only_before_and_after(
    server: http.server.ThreadingHTTPServer,
) -> None:
    results = _held(server.server_address[1], 3, every=0, seconds=0.6)
    assert len(_Answer.asked) == 6
    for result in results:
        before, after = result["before"], result["after"]
        assert isinstance(before, dict)
        assert isinstance(after, dict)
        assert after["port"] == before["source_port"]  # the same connection answered


def test_speaking_connections_ask_every_interval(server: http.server.ThreadingHTTPServer) -> None:
    results = _held(server.server_address[1], 2, every=0.2, seconds=1.0)
    assert all("after" in r for r in results)
    assert len(_Answer.asked) >= 2 * (1 + 3 + 1)  # the first ask, pings, the last ask


def test_a_connection_closed_meanwhile_is_broken_and_not_asked_again(
    server: http.server.ThreadingHTTPServer,
) -> None:
    _Answer.close_after = 2  # the server closes each connection after its first ping
    results = _held(server.server_address[1], 2, every=0.2, seconds=1.0)
    assert [r.get("broken") for r in results] == ["ConnectionError", "ConnectionError"]
    assert len(_Answer.asked) == 4  # the first ask and one ping each; none after it broke
