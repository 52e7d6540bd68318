"""The hook's heartbeat: every second, while its worker threads run, it writes what it has
configured to /run/lbgen/hook.json (contract.HOOK_STATUS). The announcer and the readiness probe
read it there (lbgen.runtime.pod.health): a hook that is frozen or dead stops beating, and its LB
withdraws."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lbgen.errors import LbgenError
from lbgen.files import replace_file
from lbgen.plan import ServicePlan
from lbgen.render.keepalived import Pools, virtual_servers

log = logging.getLogger("lbgen.runtime.hook")


def hook_status(service: ServicePlan, pools: Pools | None, now: float) -> dict[str, Any]:
    """`beat`: CLOCK_MONOTONIC, the same in every container of the pod; `configured`: the
    virtual servers keepalived.conf holds (those whose pool has a real server)."""
    configured = [
        [v.port.protocol, str(v.vip), v.port.port] for v in virtual_servers(service, pools or {})
    ]
    return {"beat": now, "configured": configured}


def beat(
    service: ServicePlan,
    path: Path,
    *,
    pools: Callable[[], Pools | None],
    healthy: Callable[[], bool],
    stop: threading.Event,
    interval: float,
) -> None:
    """Write the status every `interval` while `healthy()`, until `stop`. A failed write is
    logged and tried again; silence is what the readers act on."""
    while not stop.is_set():
        if healthy():
            text = json.dumps(hook_status(service, pools(), time.monotonic())) + "\n"
            try:
                replace_file(path, text, 0o644)
            except (OSError, LbgenError) as error:
                log.error("cannot write %s: %s", path, error, extra={"service": service.name})
        stop.wait(interval)
