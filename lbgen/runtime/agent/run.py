"""The agent's edges: follow the LB pods on this node and keep the host's routes equal to them;
serve /healthz, /readyz and /metrics on the node's address."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge

from lbgen.contract import AGENT_PORT
from lbgen.plan import AgentConfig
from lbgen.runtime.agent.routes import (
    ROUTE_PROTO,
    Allowed,
    desired_routes,
    installed_routes,
    route_commands,
)
from lbgen.runtime.config import read_config
from lbgen.runtime.daemon import Supervised, api_client, log_json_lines, until_signalled
from lbgen.runtime.kube.serving import serve_probes
from lbgen.runtime.kube.watch import Follower, Objects

log = logging.getLogger(__name__)


@dataclass
class AgentMetrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.routes = Gauge(
            "lbgen_agent_routes", "LB prefixes routed to a pod on this node", registry=self.registry
        )
        self.refused = Gauge(
            "lbgen_agent_refused_pods",
            "LB pods of this node given no route (unknown service, no or a bad IP)",
            registry=self.registry,
        )
        self.errors = Counter(
            "lbgen_agent_route_errors", "`ip route` commands that failed", registry=self.registry
        )
        self.reconciled = threading.Event()


class RouteTable:
    """The host's routes lbgen owns, changed with `ip` (optionally inside a netns, for tests)."""

    def __init__(
        self, allowed: Allowed, netns: str | None = None, metrics: AgentMetrics | None = None
    ) -> None:
        self.allowed = allowed
        self.prefix: Sequence[str] = ("ip", "netns", "exec", netns) if netns else ()
        self.metrics = metrics or AgentMetrics()

    def _ip(self, argv: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.prefix, *argv], capture_output=True, text=True, check=False)

    def reconcile(self, pods: Objects, node: str) -> list[list[str]]:
        listed = []
        for family, owned in ((["-4"], self.allowed.prefixes), (["-6"], self.allowed.prefixes6)):
            if not owned:
                continue
            shown = self._ip(["ip", *family, "-j", "route", "show", "proto", ROUTE_PROTO])
            listed += json.loads(shown.stdout or "[]")
        installed = installed_routes(listed, self.allowed)
        desired, refused = desired_routes(pods.values(), node, self.allowed)
        commands = route_commands(installed, desired)
        for command in commands:
            done = self._ip(command)
            if done.returncode != 0:
                self.metrics.errors.inc()
            level = logging.INFO if done.returncode == 0 else logging.ERROR
            log.log(
                level,
                "%s%s",
                " ".join(command),
                f": {done.stderr.strip()}" if done.returncode else "",
            )
        self.metrics.routes.set(len(desired))
        self.metrics.refused.set(refused)
        self.metrics.reconciled.set()
        return commands


def read_agent_config(path: Path) -> AgentConfig:
    return read_config(path, AgentConfig, "node agent config")


def run_agent(
    config_path: Path, node: str, resync: float = 60.0, api_server: str | None = None
) -> int:
    log_json_lines()
    config = read_agent_config(config_path)
    api = api_client(api_server)
    metrics = AgentMetrics()
    table = RouteTable(Allowed.from_config(config), metrics=metrics)
    lock = threading.Lock()
    latest: dict[str, Objects] = {}

    def on_state(pods: Objects) -> None:
        with lock:
            latest["pods"] = pods
            table.reconcile(pods, node)

    follower = Follower(
        api.lister("api/v1", "pods"),
        config.namespace,
        on_state,
        label_selector=f"lbgen.io/fabric={config.fabric},app.kubernetes.io/component=load-balancer",
        field_selector=f"spec.nodeName={node}",
    )
    threads = Supervised(follower.stop)
    host = os.environ.get("NODE_IP") or "127.0.0.1"
    serve_probes(metrics.registry, threads.problem, metrics.reconciled.is_set, AGENT_PORT, host)

    def resync_routes() -> None:
        with lock:
            if "pods" in latest:
                table.reconcile(latest["pods"], node)

    threads.start("follow-pods", follower.run)
    # a route someone removed by hand comes back within `resync` seconds
    until_signalled(follower.stop, resync, resync_routes)
    threads.join("follow-pods", timeout=5)
    return threads.exit_code
