"""The agent's edges: follow the LB pods on this node and keep the host's routes equal to them."""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import threading
from collections.abc import Sequence
from types import FrameType

from lbgen.agent.routes import ROUTE_PROTO, desired_routes, installed_routes, route_commands
from lbgen.kube.client import KubeClient
from lbgen.kube.watch import Follower, Objects

log = logging.getLogger(__name__)


class RouteTable:
    """The host's routes lbgen owns, changed with `ip` (optionally inside a netns, for tests)."""

    def __init__(self, netns: str | None = None) -> None:
        self.prefix: Sequence[str] = ("ip", "netns", "exec", netns) if netns else ()

    def _ip(self, argv: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.prefix, *argv], capture_output=True, text=True, check=False)

    def reconcile(self, pods: Objects, node: str) -> list[list[str]]:
        shown = self._ip(["ip", "-j", "route", "show", "proto", ROUTE_PROTO])
        installed = installed_routes(json.loads(shown.stdout or "[]"))
        commands = route_commands(installed, desired_routes(pods.values(), node))
        for command in commands:
            done = self._ip(command)
            level = logging.INFO if done.returncode == 0 else logging.ERROR
            log.log(
                level,
                "%s%s",
                " ".join(command),
                f": {done.stderr.strip()}" if done.returncode else "",
            )
        return commands


def run_agent(
    namespace: str, fabric: str, node: str, resync: float = 60.0, api_server: str | None = None
) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    api = KubeClient(api_server) if api_server else KubeClient.in_cluster()
    table = RouteTable()
    lock = threading.Lock()
    latest: dict[str, Objects] = {}

    def on_state(pods: Objects) -> None:
        with lock:
            latest["pods"] = pods
            table.reconcile(pods, node)

    follower = Follower(
        api.lister("api/v1", "pods"),
        namespace,
        on_state,
        label_selector=f"lbgen.io/fabric={fabric},app.kubernetes.io/component=load-balancer",
        field_selector=f"spec.nodeName={node}",
    )

    def stop(_signum: int, _frame: FrameType | None) -> None:
        follower.stop.set()

    signal.signal(signal.SIGTERM, stop)
    thread = threading.Thread(target=follower.run, name="follow-pods", daemon=True)
    thread.start()
    # a route someone removed by hand comes back within `resync` seconds
    while not follower.stop.wait(resync):
        with lock:
            if "pods" in latest:
                table.reconcile(latest["pods"], node)
    thread.join(timeout=5)
    return 0
