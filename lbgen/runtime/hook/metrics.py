"""The hook's Prometheus metrics, and its /metrics, /healthz and /readyz: the pod's one metrics
port, so it also says what the announcer decided (read from its status file at each scrape)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from lbgen.runtime.kube.serving import serve_probes


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
        self.api_errors = Counter(
            "lbgen_hook_api_errors",
            "failed lists and watches of the backend's EndpointSlices (the pool stays as it was)",
            registry=self.registry,
        )
        self.stale = Gauge(
            "lbgen_hook_pool_stale",
            "1 while the API cannot be read: the pool is the last one listed, still serving",
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


class AnnouncerMetrics(Collector):
    """What the announcer (exabgp's process) last wrote to its status file: per family whether
    this LB announces and how often that changed, each reflector's session, the file's age."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.monotonic) -> None:
        self.path = path
        self.clock = clock

    def collect(self) -> Iterator[Metric]:
        announced = GaugeMetricFamily(
            "lbgen_announced", "1 while this LB announces the family's prefix", labels=["family"]
        )
        changes = CounterMetricFamily(
            "lbgen_announce_changes",
            "announcements and withdrawals of the family's prefix since the announcer started",
            labels=["family"],
        )
        sessions = GaugeMetricFamily(
            "lbgen_bgp_session_up",
            "1 while the BGP session with the reflector is established",
            labels=["reflector"],
        )
        age = GaugeMetricFamily(
            "lbgen_announcer_status_age_seconds", "seconds since the announcer last checked"
        )
        try:
            status = json.loads(self.path.read_text(encoding="utf-8"))
            for family, state in sorted(status["families"].items()):
                announced.add_metric([family], float(bool(state["announced"])))
                changes.add_metric([family], float(state["changes"]))
            for name, up in sorted(status["sessions"].items()):
                sessions.add_metric([name], float(bool(up)))
            age.add_metric([], max(0.0, self.clock() - float(status["beat"])))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            age.add_metric([], float("nan"))  # no announcer status (yet): its age is unknown
        yield from (announced, changes, sessions, age)


def serve_metrics(metrics: HookMetrics, port: int, host: str = "0.0.0.0") -> ThreadingHTTPServer:  # noqa: S104
    return serve_probes(metrics.registry, metrics.health, lambda: metrics.ready, port, host)
