"""Polling that fails loudly: `wait_for` something to happen, or that something `stays` true
for a while (an event that should change nothing did not, for as long as acting on it would
have taken)."""

from __future__ import annotations

import time
from collections.abc import Callable

POLL = 0.005


def wait_for(test: Callable[[], bool], timeout: float = 15, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not test():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or test}")
        time.sleep(POLL)


def stays(test: Callable[[], bool], for_: float, what: str = "") -> None:
    """`test` holds at every look for `for_` seconds; fails at the first look it does not."""
    deadline = time.monotonic() + for_
    while True:
        if not test():
            raise AssertionError(f"no longer holds: {what or test}")
        if time.monotonic() > deadline:
            return
        time.sleep(POLL)
