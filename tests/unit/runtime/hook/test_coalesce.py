"""lbgen/runtime/hook/coalesce.py: how bursts of EndpointSlice changes become reloads (once
within the minimum interval, with the latest state; again after a failed write's backoff)."""

from __future__ import annotations

import threading

from lbgen.runtime.hook.coalesce import Coalescer, RetryLaterError


def test_a_burst_within_the_minimum_interval_is_applied_once_with_the_latest_state() -> None:
    applied: list[int] = []
    done = threading.Event()

    def apply(state: int, _since: float) -> None:
        applied.append(state)
        if state == 99:
            done.set()

    coalescer: Coalescer[int] = Coalescer(apply, settle=0.001, min_interval=0.3)
    worker = threading.Thread(target=coalescer.run, daemon=True)
    worker.start()
    coalescer.submit(1)  # idle: applied after `settle`
    for state in range(2, 100):  # within min_interval: one apply, with the last state
        coalescer.submit(state)
    assert done.wait(5)
    coalescer.stop.set()
    worker.join(5)
    assert applied[0] in (1, 99)
    assert applied[-1] == 99
    assert len(applied) <= 2


def test_a_state_whose_write_failed_is_applied_again_after_the_backoff() -> None:
    applied: list[int] = []
    done = threading.Event()

    def apply(state: int, _since: float) -> None:
        applied.append(state)
        if len(applied) == 1:
            raise RetryLaterError(0.05)  # the disk was full
        done.set()

    coalescer: Coalescer[int] = Coalescer(apply, settle=0.001, min_interval=0)
    worker = threading.Thread(target=coalescer.run, daemon=True)
    worker.start()
    coalescer.submit(7)
    assert done.wait(5)
    coalescer.stop.set()
    worker.join(5)
    assert applied == [7, 7]
