"""The runtime's one way to be a daemon: JSON-lines logs, and a loop SIGTERM ends."""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
from collections.abc import Iterator

import pytest

from lbgen.runtime.daemon import JsonLines, Supervised, until_signalled


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


@pytest.mark.usefixtures("handlers_kept")
def test_a_thread_that_dies_ends_the_loop_and_the_daemon_exits_1() -> None:
    stopping = threading.Event()
    threads = Supervised(stopping)

    def bug() -> None:
        raise RuntimeError("a bug")

    threads.start("worker", bug)
    until_signalled(stopping, 0.01)
    assert threads.problem() == "the worker thread died (RuntimeError: a bug)"
    assert threads.exit_code == 1


@pytest.mark.usefixtures("handlers_kept")
def test_a_thread_that_returns_while_the_daemon_runs_is_a_death_too() -> None:
    stopping = threading.Event()
    threads = Supervised(stopping)
    threads.start("worker", lambda: None)
    until_signalled(stopping, 0.01)
    assert threads.problem() == "the worker thread died (returned)"
    assert threads.exit_code == 1


@pytest.mark.usefixtures("handlers_kept")
def test_threads_that_end_because_the_daemon_stops_are_no_problem() -> None:
    stopping = threading.Event()
    threads = Supervised(stopping)
    threads.start("worker", stopping.wait)
    ticks: list[int] = []

    def tick() -> None:
        ticks.append(1)
        os.kill(os.getpid(), signal.SIGTERM)

    until_signalled(stopping, 0.01, tick)
    threads.join("worker", timeout=5)
    assert threads.problem() is None
    assert threads.exit_code == 0
