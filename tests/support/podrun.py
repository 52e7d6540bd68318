"""An LB pod's /run/lbgen as its containers leave it, for the health rule's tests: keepalived's
pid files naming a live process (this one), and the hook's heartbeat with what it configured."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from lbgen.contract import CHECKERS_PID, HOOK_STATUS, KEEPALIVED_PID


def pod_run(
    run: Path, configured: list[list[Any]], *, beat_age: float = 0.0, pid: int | None = None
) -> Path:
    run.mkdir(parents=True, exist_ok=True)
    for name in (KEEPALIVED_PID.name, CHECKERS_PID.name):
        (run / name).write_text(f"{pid or os.getpid()}\n")
    status = {"beat": time.monotonic() - beat_age, "configured": configured}
    (run / HOOK_STATUS.name).write_text(json.dumps(status))
    return run
