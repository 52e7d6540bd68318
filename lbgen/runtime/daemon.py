"""One way to be a daemon for the runtime's long-running commands (`lbgen hook`, `lbgen agent`):
JSON-lines logs, SIGTERM and SIGINT ending the loop, and the API client from a flag or the
pod's service account."""

from __future__ import annotations

import json
import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from lbgen.runtime.kube.client import KubeClient


class JsonLines(logging.Formatter):
    """One JSON object a line: time, level, message, and the fields passed as `extra`."""

    FIELDS = ("service", "node", "outcome", "ready", "draining", "seconds")

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update({k: getattr(record, k) for k in self.FIELDS if hasattr(record, k)})
        return json.dumps(entry, sort_keys=True)


def log_json_lines() -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLines())
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)


def api_client(api_server: str | None) -> KubeClient:
    """The API server a flag names (the testbed's stand-in), else the pod's own cluster."""
    return KubeClient(api_server) if api_server else KubeClient.in_cluster()


def until_signalled(
    stopping: threading.Event,
    every: float = 1.0,
    tick: Callable[[], None] | None = None,
    wake: threading.Event | None = None,
) -> None:
    """Run `tick` every `every` seconds, and at once whenever `wake` is set, until SIGTERM or
    SIGINT (or anything else) sets `stopping`."""
    woken = wake if wake is not None else stopping

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stopping.set()
        woken.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    while True:
        woken.wait(every)
        if stopping.is_set():
            return
        if tick is not None:
            tick()
