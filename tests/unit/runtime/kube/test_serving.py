"""lbgen/runtime/kube/serving.py: /healthz, /readyz and /metrics, on an IPv6 address too."""

from __future__ import annotations

import urllib.request

from prometheus_client import CollectorRegistry

from lbgen.runtime.kube.serving import serve_probes


def test_probes_listen_on_an_ipv6_address() -> None:
    server = serve_probes(CollectorRegistry(), lambda: None, lambda: True, 0, "::1")
    try:
        port = server.server_address[1]
        with urllib.request.urlopen(f"http://[::1]:{port}/readyz", timeout=5) as answer:
            assert answer.status == 200
    finally:
        server.shutdown()
        server.server_close()
