"""What lbgen's runtime serves to the kubelet and to Prometheus: /healthz, /readyz, /metrics."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest


class _Server6(ThreadingHTTPServer):
    address_family = socket.AF_INET6


def http_server(host: str, port: int, handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    """A threading HTTP server on `host` of either family (an IPv6-only cluster's pod or node
    IP, '::'), each request in a daemon thread."""
    server = (_Server6 if ":" in host else ThreadingHTTPServer)((host, port), handler)
    server.daemon_threads = True
    return server


def serve_probes(
    registry: CollectorRegistry,
    health: Callable[[], str | None],
    ready: Callable[[], bool],
    port: int,
    host: str,
) -> ThreadingHTTPServer:
    """`health` says why the process is unhealthy (None: it is healthy), `ready` whether it
    has done its first work; a thread serves until the process ends."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: Any) -> None:
            pass

        def do_GET(self) -> None:
            if self.path == "/metrics":
                self._send(200, generate_latest(registry), CONTENT_TYPE_LATEST)
            elif self.path == "/healthz":
                problem = health()
                if problem is None:
                    self._send(200, b"ok\n")
                else:
                    self._send(500, f"unhealthy: {problem}\n".encode())
            elif self.path == "/readyz":
                ok = ready()
                self._send(200 if ok else 503, b"ready\n" if ok else b"not ready\n")
            else:
                self._send(404, b"not found\n")

        def _send(self, code: int, body: bytes, kind: str = "text/plain") -> None:
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http_server(host, port, Handler)
    threading.Thread(target=server.serve_forever, name="probes", daemon=True).start()
    return server
