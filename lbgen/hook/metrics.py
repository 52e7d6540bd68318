"""The hook's Prometheus metrics, and its /metrics, /healthz and /readyz."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from http.server import ThreadingHTTPServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from lbgen.kube.serving import serve_probes


class HookMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.reloads = Counter(
            "lbgen_hook_reloads", "keepalived reloads (SIGHUP sent)", registry=self.registry
        )
        self.failed = Counter(
            "lbgen_hook_failed_renders",
            "rendered configs keepalived refused (kept as .failed)",
            registry=self.registry,
        )
        self.endpoints = Gauge(
            "lbgen_hook_endpoints",
            "endpoints in the pool, by state",
            ["state"],
            registry=self.registry,
        )
        self.last_sync = Gauge(
            "lbgen_hook_last_sync_timestamp_seconds",
            "when the pool last matched the API (Unix time)",
            registry=self.registry,
        )
        self.sync_age = Gauge(
            "lbgen_hook_last_sync_age_seconds",
            "seconds since the pool last matched the API",
            registry=self.registry,
        )
        self.sync_age.set_function(self._age)
        self.latency = Histogram(
            "lbgen_hook_event_to_reload_seconds",
            "from an EndpointSlice change arriving to keepalived.conf in place and signalled",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.skipped = Counter(
            "lbgen_hook_skipped_items",
            "malformed EndpointSlice items skipped, by kind",
            ["kind"],
            registry=self.registry,
        )
        self.write_errors = Counter(
            "lbgen_hook_write_errors",
            "keepalived.conf writes that failed (retried with backoff)",
            registry=self.registry,
        )
        self.unresolved = Gauge(
            "lbgen_hook_unresolved_ports",
            "service ports whose target the backend's EndpointSlices do not list "
            "(the old pool keeps serving)",
            registry=self.registry,
        )
        self.reorders = Counter(
            "lbgen_hook_ipvs_reorders",
            "real servers taken out and put back so IPVS holds them in the order every LB "
            "builds (consistent hashing across LBs), by result",
            ["result"],
            registry=self.registry,
        )
        self._synced_at: float | None = None
        # None when healthy, else why not: /healthz fails so the kubelet restarts the container
        self.health: Callable[[], str | None] = lambda: None
        self.listed = threading.Event()
        self.applied = threading.Event()

    def synced(self) -> None:
        self._synced_at = time.time()
        self.last_sync.set(self._synced_at)

    def _age(self) -> float:
        return float("nan") if self._synced_at is None else time.time() - self._synced_at

    @property
    def ready(self) -> bool:
        """Ready once the first complete list was seen and its config is in place."""
        return self.listed.is_set() and self.applied.is_set()


def serve_metrics(metrics: HookMetrics, port: int, host: str = "0.0.0.0") -> ThreadingHTTPServer:  # noqa: S104
    return serve_probes(metrics.registry, metrics.health, lambda: metrics.ready, port, host)
