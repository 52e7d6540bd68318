"""What hook tests and the hook benchmark share: EndpointSlices, a stand-in keepalived, waits."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from lbgen.compiler import compile_file
from lbgen.plan import PodConfig

ROOT = Path(__file__).resolve().parent.parent
STANDIN = ROOT / "tests" / "standin_keepalived.py"


def paper_pod(service: str = "web1") -> PodConfig:
    plan = compile_file(ROOT / "examples/paper.yaml", "examples/paper.yaml").plan
    assert plan is not None
    chosen = next(s for s in plan.services if s.name == service)
    return PodConfig(header="h", source="examples/paper.yaml", service=chosen)


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
) -> dict[str, Any]:
    return {
        "kind": "EndpointSlice",
        "apiVersion": "discovery.k8s.io/v1",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"kubernetes.io/service-name": service},
        },
        "addressType": "IPv4",
        "ports": [{"name": "http", "port": port, "protocol": "TCP"}],
        "endpoints": list(endpoints),
    }


def start_standin(folder: Path) -> tuple[subprocess.Popen[bytes], Path, Path]:
    pidfile, hups = folder / "keepalived.pid", folder / "sighup.log"
    process = subprocess.Popen([sys.executable, str(STANDIN), str(pidfile), str(hups)])
    wait_for(lambda: pidfile.exists() and pidfile.read_text().strip() != "")
    return process, pidfile, hups


def sighups(log: Path) -> list[float]:
    return [float(line) for line in log.read_text().split()] if log.exists() else []


def wait_for(test: Callable[[], bool], timeout: float = 15, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not test():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or test}")
        time.sleep(0.005)
