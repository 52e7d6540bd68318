"""One way to be a daemon for the runtime's long-running commands (`lbgen hook`, `lbgen node-agent`,
`lbgen router-fib`): JSON-lines logs, SIGTERM and SIGINT ending the loop, worker threads
supervised alike (one that dies fails /healthz where there is one and ends the daemon with exit
1, so the kubelet or systemd starts it again), and the API client from a flag or the pod's
service account."""

from __future__ import annotations

import json
import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from lbgen.runtime.kube.client import KubeClient

log = logging.getLogger(__name__)


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


class Supervised:
    """A daemon's worker threads. One that raises, or returns while the daemon is not
    stopping, is logged once as critical, makes `problem()` say so (its /healthz then fails)
    and sets `stopping`: the daemon's loop ends and it exits with `exit_code` 1, instead of a
    daemon that answers 200 while nothing is done any more."""

    def __init__(self, stopping: threading.Event) -> None:
        self.stopping = stopping
        self.threads: dict[str, threading.Thread] = {}
        self.died: dict[str, str] = {}

    def start(self, name: str, target: Callable[[], None]) -> None:
        def run() -> None:
            try:
                target()
            except BaseException as error:  # noqa: BLE001 -- any death is reported, then ends the daemon
                self._died(name, f"{type(error).__name__}: {error}", error)
                return
            if not self.stopping.is_set():
                self._died(name, "returned", None)

        thread = threading.Thread(target=run, name=name, daemon=True)
        self.threads[name] = thread
        thread.start()

    def _died(self, name: str, why: str, error: BaseException | None) -> None:
        self.died[name] = why
        log.critical("the %s thread died: %s; stopping", name, why, exc_info=error)
        self.stopping.set()

    def join(self, name: str, timeout: float) -> None:
        self.threads[name].join(timeout=timeout)

    def problem(self) -> str | None:
        if self.died:
            return "; ".join(f"the {n} thread died ({why})" for n, why in sorted(self.died.items()))
        gone = [n for n, t in self.threads.items() if not t.is_alive()]
        if gone and not self.stopping.is_set():
            return f"the {', '.join(gone)} thread(s) stopped"
        return None

    @property
    def exit_code(self) -> int:
        """What the daemon exits with once its loop ended: 1 when a thread died."""
        return 1 if self.died else 0
