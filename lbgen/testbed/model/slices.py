"""The one shape of an EndpointSlice the testbed, the hook's rig and the benches serve from the
stand-in API: a Service's endpoints of one family, with their conditions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def endpoint(
    ip: str,
    *,
    ready: bool | None = True,
    serving: bool | None = None,
    terminating: bool | None = None,
) -> dict[str, Any]:
    conditions = {
        k: v
        for k, v in (("ready", ready), ("serving", serving), ("terminating", terminating))
        if v is not None
    }
    return {"addresses": [ip], "conditions": conditions}


def endpoint_slice(
    name: str,
    endpoints: Iterable[dict[str, Any]],
    *,
    service: str = "nginx1",
    namespace: str = "default",
    port: int = 8080,
    version: int = 4,
    ports: Iterable[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """`ports`: (name, protocol) of each target port, all on `port` (default one TCP `http`)."""
    named = list(ports) if ports is not None else [("http", "TCP")]
    return {
        "kind": "EndpointSlice",
        "apiVersion": "discovery.k8s.io/v1",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"kubernetes.io/service-name": service},
        },
        "addressType": f"IPv{version}",
        "ports": [{"name": n, "port": port, "protocol": protocol} for n, protocol in named],
        "endpoints": list(endpoints),
    }
