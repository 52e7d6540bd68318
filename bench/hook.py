"""How fast `lbgen hook` turns an EndpointSlice change into keepalived.conf in place + SIGHUP,
and how many reloads a rollout of 100 backend pods costs.

Run: .venv/bin/python -m bench.hook   (prints numbers; asserts nothing)
The hook runs against the testbed's stand-in API server serving the real list/watch protocol over
loopback from a process of its own (as a real API server is elsewhere), checks every config with the
real `keepalived -t`, and signals a stand-in keepalived that records when each SIGHUP arrived.
Latency = SIGHUP arrival − the moment the change was handed to the API server."""

from __future__ import annotations

import multiprocessing
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

from lbgen.render.keepalived import render_keepalived
from lbgen.runtime.hook.run import Hook
from lbgen.runtime.hook.settings import HookSettings
from lbgen.runtime.kube.client import KubeClient
from lbgen.testbed.model.slices import endpoint, endpoint_slice
from lbgen.testbed.standins.apiserver import FakeApi, serve
from tests.support.hookrig import paper_pod, sighups, start_standin
from tests.support.waiting import wait_for

SIZES = (10, 100, 1000)
EVENTS = 60
PER_SLICE = 100  # the EndpointSlice controller's default maximum


def addresses(count: int, start: int = 0) -> list[str]:
    return [str(IPv4Address("172.16.0.1") + start + i) for i in range(count)]


def slices(ips: list[str], ready: dict[str, bool]) -> list[dict[str, object]]:
    return [
        endpoint_slice(
            f"nginx1-{n:03d}",
            [endpoint(ip, ready=ready.get(ip, True)) for ip in ips[i : i + PER_SLICE]],
        )
        for n, i in enumerate(range(0, len(ips), PER_SLICE))
    ]


class RemoteApi:
    """A FakeApi in a process of its own, fed over a queue: `put` returns once it is queued."""

    def __init__(self, objects: list[dict[str, Any]]) -> None:
        context = multiprocessing.get_context("spawn")
        self.commands: Any = context.Queue()
        ready: Any = context.Queue()
        self.process = context.Process(
            target=_serve, args=(objects, self.commands, ready), daemon=True
        )
        self.process.start()
        self.url = str(ready.get(timeout=60))

    def put(self, obj: dict[str, Any]) -> None:
        self.commands.put(obj)

    def close(self) -> None:
        self.commands.put(None)
        self.process.join(timeout=10)


def _serve(objects: list[dict[str, Any]], commands: Any, ready: Any) -> None:
    api = FakeApi("EndpointSlice")
    for obj in objects:
        api.put(obj)
    with serve(api) as api_client:
        ready.put(api_client.host)
        while (obj := commands.get()) is not None:
            api.put(obj)


@contextmanager
def running_hook(api: RemoteApi, min_interval: float) -> Iterator[Path]:
    pod = paper_pod()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        (work / "keepalived.conf").write_text(render_keepalived(pod.service, {}, pod.source))
        standin, pidfile, hups = start_standin(work)
        settings = HookSettings(
            keepalived_conf=work / "keepalived.conf",
            keepalived_pid=pidfile,
            check_command=(shutil.which("keepalived") or "keepalived", "-t", "-e", "-f"),
            min_interval_seconds=min_interval,
            metrics_port=0,
            status_interval_seconds=3600,
        )
        hook = Hook(pod, settings, KubeClient(api.url))
        hook.start()
        try:
            wait_for(lambda: len(sighups(hups)) >= 1, timeout=60, what="the first reload")
            yield hups
        finally:
            hook.stop()
            standin.terminate()
            standin.wait()
            api.close()


def latency(size: int) -> list[float]:
    ips = addresses(size)
    ready = dict.fromkeys(ips, True)
    api = RemoteApi(slices(ips, ready))
    samples = []
    with running_hook(api, min_interval=0) as hups:
        for n in range(EVENTS):
            ip = ips[(n * 7) % size]
            ready[ip] = not ready[ip]
            changed = slices(ips, ready)[ips.index(ip) // PER_SLICE]
            before = len(sighups(hups))
            start = time.monotonic()
            api.put(changed)
            wait_for(lambda b=before: len(sighups(hups)) > b, timeout=30, what="a reload")  # type: ignore[misc]
            samples.append(sighups(hups)[-1] - start)
            time.sleep(0.02)
    return samples


def rollout(min_interval: float, seconds: float = 5.0) -> int:
    """Replace 100 backend pods one by one over `seconds`: each new pod appears unready, turns
    ready, then an old one terminates (serving) and goes: four API writes a pod."""
    old = addresses(100)
    new = addresses(100, start=1000)
    api = RemoteApi([endpoint_slice("nginx1-000", [endpoint(ip) for ip in old])])
    with running_hook(api, min_interval) as hups:
        before = len(sighups(hups))
        live = {ip: endpoint(ip) for ip in old}
        step = seconds / 400
        for fresh, stale in zip(new, old, strict=True):
            for change in ("new", "ready", "terminating", "gone"):
                if change == "new":
                    live[fresh] = endpoint(fresh, ready=False)
                elif change == "ready":
                    live[fresh] = endpoint(fresh)
                elif change == "terminating":
                    live[stale] = endpoint(stale, ready=False, serving=True, terminating=True)
                else:
                    del live[stale]
                api.put(endpoint_slice("nginx1-000", list(live.values())))
                time.sleep(step)
        time.sleep(max(1.0, min_interval) + 0.5)
        return len(sighups(hups)) - before


def main() -> None:
    print("event → keepalived.conf renamed + SIGHUP (ms), one change at a time")
    print(f"{'endpoints':>9} {'events':>6} {'p50':>7} {'p99':>7} {'max':>7}")
    for size in SIZES:
        samples = sorted(latency(size))
        p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
        print(
            f"{size:>9} {len(samples):>6} {statistics.median(samples) * 1000:>7.1f} "
            f"{p99 * 1000:>7.1f} {samples[-1] * 1000:>7.1f}"
        )
    print("\nreloads during a rollout of 100 backend pods (400 API writes over 5 s)")
    for interval in (1.0, 0.0):
        print(f"  min interval {interval:.0f} s: {rollout(interval)} reloads")


if __name__ == "__main__":
    main()
