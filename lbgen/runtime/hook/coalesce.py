"""Coalescing of bursts: the first change after a quiet period is applied at once; changes that
follow within `min_interval` wait and are applied together, with the latest state only."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

State = TypeVar("State")


class RetryLaterError(Exception):
    """Raised by `apply`: the state could not be applied (a write failed); try it again in
    `seconds`, unless a newer state arrives first."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry in {seconds:.1f} s")
        self.seconds = seconds


@dataclass
class Coalescer(Generic[State]):
    apply: Callable[[State, float], object]  # (latest state, time of the oldest unapplied change)
    settle: float = 0.005  # let the events of one API write arrive together
    min_interval: float = 1.0
    clock: Callable[[], float] = time.monotonic
    _latest: State | None = None
    _since: float | None = None
    _last_apply: float = float("-inf")
    _changed: threading.Condition = field(default_factory=threading.Condition)
    stop: threading.Event = field(default_factory=threading.Event)

    def submit(self, state: State) -> None:
        with self._changed:
            self._latest = state
            if self._since is None:
                self._since = self.clock()
            self._changed.notify()

    def run(self) -> None:
        """Apply until stopped; an apply in flight finishes before this returns."""
        while True:
            with self._changed:
                while self._since is None and not self.stop.is_set():
                    self._changed.wait(0.5)
                if self._since is None:
                    return
                wait = max(self.settle, self._last_apply + self.min_interval - self.clock())
            if self.stop.wait(wait):
                return  # stopping: an apply in flight has finished; start none
            self._apply_pending()

    def _apply_pending(self) -> None:
        with self._changed:
            state, since = self._latest, self._since
            self._since = None
        if state is not None and since is not None:
            self._last_apply = self.clock()
            try:
                self.apply(state, since)
            except RetryLaterError as retry:
                with self._changed:
                    if self._since is None:  # nothing newer arrived: this state again
                        self._latest, self._since = state, since
                    self._last_apply = self.clock() + retry.seconds - self.min_interval
