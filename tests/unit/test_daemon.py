"""The runtime's one way to be a daemon: JSON-lines logs, and a loop SIGTERM ends."""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
from collections.abc import Iterator

import pytest

from lbgen.runtime.daemon import JsonLines, until_signalled


@pytest.fixture
def handlers_kept() -> Iterator[None]:
    kept = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    yield
    for sig, handler in kept.items():
        signal.signal(sig, handler)


def test_a_log_record_is_one_json_object_with_its_fields() -> None:
    record = logging.LogRecord(
        "lbgen.runtime.agent", logging.ERROR, "", 0, "ip %s", ("route",), None
    )
    record.node = "n1"
    line = JsonLines().format(record)
    entry = json.loads(line)
    assert "\n" not in line
    assert entry["level"] == "error"
    assert entry["msg"] == "ip route"
    assert entry["node"] == "n1"
    assert entry["logger"] == "lbgen.runtime.agent"


@pytest.mark.usefixtures("handlers_kept")
def test_sigterm_ends_the_loop_after_the_ticks_so_far() -> None:
    ticks: list[int] = []

    def tick() -> None:
        ticks.append(1)
        if len(ticks) == 3:
            os.kill(os.getpid(), signal.SIGTERM)

    stopping = threading.Event()
    until_signalled(stopping, 0.01, tick)
    assert stopping.is_set()
    assert len(ticks) == 3
