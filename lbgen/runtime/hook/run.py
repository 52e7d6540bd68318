"""The hook, wired: follow the backend's EndpointSlices, coalesce, render, check, reload;
publish the Service's status; serve metrics; stop cleanly on SIGTERM."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from urllib3.exceptions import HTTPError

from lbgen.contract import ANNOUNCE_STATUS, HOOK_STATUS
from lbgen.errors import LbgenError
from lbgen.plan import PodConfig
from lbgen.render.keepalived import Pools, render_keepalived
from lbgen.runtime.daemon import Supervised, api_client, log_json_lines, until_signalled
from lbgen.runtime.hook.coalesce import Coalescer, RetryLaterError
from lbgen.runtime.hook.heartbeat import beat
from lbgen.runtime.hook.metrics import AnnouncerMetrics, HookMetrics, serve_metrics
from lbgen.runtime.hook.order import rebuild, taken_out, without
from lbgen.runtime.hook.pool import MemberCache, count, families_of, pooled
from lbgen.runtime.hook.reload import Outcome, Reloader
from lbgen.runtime.hook.settings import HookSettings
from lbgen.runtime.hook.status import publish
from lbgen.runtime.ipvs import Dest, VirtualKey, read_ipvs
from lbgen.runtime.kube.client import ApiError, KubeClient
from lbgen.runtime.kube.watch import Backoff, Follower, Objects
from lbgen.runtime.pod.facts import read_pod_config

log = logging.getLogger("lbgen.runtime.hook")


class Hook:
    def __init__(self, pod: PodConfig, settings: HookSettings, api: KubeClient) -> None:
        self.service = pod.service
        self.source = pod.source
        self.settings = settings
        self.metrics = HookMetrics()
        self.reloader = Reloader(
            settings.keepalived_conf, settings.keepalived_pid, settings.check_command
        )
        self.coalescer: Coalescer[Objects] = Coalescer(
            self._apply,
            settle=settings.settle_seconds,
            min_interval=settings.min_interval_seconds,
        )
        backend = self.service.backend
        self.follower = Follower(
            api.lister("apis/discovery.k8s.io/v1", "endpointslices"),
            backend.namespace,
            self._on_state,
            label_selector=f"kubernetes.io/service-name={backend.service}",
            watch_timeout=settings.watch_timeout_seconds,
            stop=self.coalescer.stop,
            on_trouble=self.metrics.api_errors.inc,
        )
        self.api = api
        self.cache = MemberCache(families=families_of(self.service))
        # the pools keepalived.conf holds now; one writer of it at a time (apply, reorder)
        self.pools: Pools | None = None
        self.writing = threading.Lock()
        self.write_backoff = Backoff()
        self.threads = Supervised(self.coalescer.stop)
        self.metrics.health = self.threads.problem
        self.metrics.stale.set_function(lambda: float(self.follower.stale))
        run_dir = settings.keepalived_conf.parent
        self.metrics.registry.register(AnnouncerMetrics(run_dir / ANNOUNCE_STATUS.name))

    def _on_state(self, slices: Objects) -> None:
        """Called with complete snapshots only: after a full list, then after each event."""
        self.metrics.listed.set()
        self.coalescer.submit(slices)

    def _apply(self, slices: Objects, since: float) -> Outcome:
        with self.writing:
            return self._apply_locked(slices, since)

    def _apply_locked(self, slices: Objects, since: float) -> Outcome:
        members = self.cache.members(slices)
        for skipped in self.cache.fresh_skips:
            kind, _, detail = skipped.partition(": ")
            self.metrics.skipped.labels(kind).inc()
            log.warning("skipped a malformed EndpointSlice item: %s (%s)", detail, kind)
        found = pooled(members, self.service)
        self.metrics.unresolved.set(len(found.unresolved))
        backend = self.service.backend
        if found.unresolved:
            shown = ", ".join(f"{name or '<unnamed>'}/{proto}" for name, proto in found.unresolved)
            log.error(
                "the EndpointSlices of %s/%s list endpoints but no port %s: keeping the current "
                "pool rather than emptying it (check backend.port and targetPort)",
                backend.namespace,
                backend.service,
                shown,
                extra={"service": self.service.name},
            )
            return Outcome.KEPT
        pools = found.pools
        counts = count(pools)
        self.metrics.endpoints.labels("ready").set(counts.ready)
        self.metrics.endpoints.labels("draining").set(counts.draining)
        fields = {"service": self.service.name, "ready": counts.ready, "draining": counts.draining}
        if counts.ready == 0:
            log.warning(
                "the API lists no ready endpoint for %s/%s: the pool is empty",
                self.service.backend.namespace,
                self.service.backend.service,
                extra=fields,
            )
        try:
            outcome = self.reloader.apply(
                render_keepalived(self.service, pools, self.source),
                signal_anyway=not self.metrics.applied.is_set(),
            )
        except OSError as error:
            self.metrics.write_errors.inc()
            delay = self.write_backoff.next_delay()
            log.error(
                "cannot write %s (%s); trying again in %.1f s",
                self.settings.keepalived_conf,
                error,
                delay,
                extra={"service": self.service.name},
            )
            raise RetryLaterError(delay) from error
        self.write_backoff.reset()
        elapsed = self.coalescer.clock() - since
        if outcome is Outcome.RELOADED:
            self.metrics.reloads.inc()
            self.metrics.latency.observe(elapsed)
        if outcome is Outcome.REFUSED:
            self.metrics.failed.inc()
        else:
            self.pools = pools
            self.metrics.applied.set()
            self.metrics.synced()
        log.info("pool applied", extra={**fields, "outcome": outcome.value, "seconds": elapsed})
        return outcome

    def _keep_order(self) -> None:
        """Every few seconds: does IPVS hold each pool in the order every LB builds? If not
        (keepalived added a server at the head on a reload, or restarted), put it right."""
        while not self.coalescer.stop.wait(self.settings.order_interval_seconds):
            with self.writing:
                if self.pools is None:
                    continue
                try:
                    self._reorder(self.pools)
                except OSError as error:  # a write of keepalived.conf: the next round retries
                    log.error(
                        "cannot reorder IPVS: %s", error, extra={"service": self.service.name}
                    )

    @property
    def _fields(self) -> dict[str, str]:
        return {"service": self.service.name}

    def _ipvs(self) -> dict[VirtualKey, tuple[tuple[Dest, int], ...]] | None:
        try:
            return read_ipvs(self.settings.ipvs_table.read_text(encoding="ascii"))
        except OSError:
            return None  # no IPVS here: nothing to keep in order

    def _reorder(self, pools: Pools) -> None:
        kernel = self._ipvs()
        moves = rebuild(self.service, pools, kernel) if kernel is not None else None
        if not moves:
            return
        shown = ", ".join(f"{a}:{p}" for move in moves.values() for a, p in move)
        log.warning(
            "IPVS holds the pool in another order than a fresh keepalived builds (so other LBs "
            "may hash some flows elsewhere): taking out and putting back %s",
            shown,
            extra={"service": self.service.name},
        )
        full = render_keepalived(self.service, pools, self.source)
        gone = False
        try:
            fewer = render_keepalived(self.service, without(pools, moves), self.source)
            out = self.reloader.apply(fewer)
            gone = out is Outcome.RELOADED and self._wait_ipvs(lambda held: taken_out(moves, held))
        finally:
            self.reloader.apply(full)
        done = gone and self._wait_ipvs(lambda held: rebuild(self.service, pools, held) == {})
        self.metrics.reorders.labels("done" if done else "failed").inc()
        if done:
            log.info("IPVS order restored", extra={"service": self.service.name})
        else:
            log.error(
                "IPVS order not restored (keepalived did not apply a reload in %.0f s); "
                "trying again",
                self.settings.order_timeout_seconds,
                extra={"service": self.service.name},
            )

    def _wait_ipvs(
        self, condition: Callable[[dict[VirtualKey, tuple[tuple[Dest, int], ...]]], bool]
    ) -> bool:
        deadline = time.monotonic() + self.settings.order_timeout_seconds
        while time.monotonic() < deadline:
            held = self._ipvs()
            if held is not None and condition(held):
                return True
            time.sleep(0.05)
        return False

    def _publish_status(self) -> None:
        while not self.coalescer.stop.is_set():
            try:
                api = self.api
                if publish(self.service, api.read_service_status, api.patch_service_status):
                    log.info("service status set", extra={"service": self.service.name})
            except (ApiError, HTTPError, OSError, ValueError) as error:
                log.warning("cannot set the service status yet: %s", error)
            self.coalescer.stop.wait(self.settings.status_interval_seconds)

    def start(self) -> None:
        self.threads.start("follow", self.follower.run)
        self.threads.start("apply", self.coalescer.run)
        self.threads.start("status", self._publish_status)
        self.threads.start("order", self._keep_order)
        status = self.settings.keepalived_conf.parent / HOOK_STATUS.name
        self.threads.start(
            "beat",
            lambda: beat(
                self.service,
                status,
                pools=lambda: self.pools,
                healthy=lambda: self.threads.problem() is None,
                stop=self.coalescer.stop,
                interval=self.settings.beat_interval_seconds,
            ),
        )

    def stop(self) -> None:
        """Let an apply in flight finish its write; the watch thread is left to die with us."""
        self.coalescer.stop.set()
        self.threads.join("apply", timeout=30)

    def apply_once(self) -> Outcome:
        """One complete list, applied at once: what `lbgen hook --once` does."""
        objects, _version = self.follower.list_once()
        try:
            return self._apply(objects, self.coalescer.clock())
        except RetryLaterError as error:
            # once means once: the write failed, and nothing will try it again
            raise LbgenError(f"cannot write {self.settings.keepalived_conf}") from error


def run_hook_command(given: dict[str, Any]) -> int:
    """`lbgen hook`: settings from the environment and flags, then run (or apply once)."""
    once = bool(given.pop("once", False))
    settings = HookSettings.from_environment(os.environ, **given)
    pod = read_pod_config(settings.config)
    log_json_lines()
    api = api_client(settings.api_server)
    if once:
        outcome = Hook(pod, settings, api).apply_once()
        return 1 if outcome in (Outcome.REFUSED, Outcome.KEPT) else 0
    return run_hook(pod, settings, api)


def run_hook(pod: PodConfig, settings: HookSettings, api: KubeClient) -> int:
    hook = Hook(pod, settings, api)
    if settings.metrics_port:
        anywhere = "0.0.0.0" if pod.service.session_version == 4 else "::"  # noqa: S104
        serve_metrics(hook.metrics, settings.metrics_port, settings.metrics_bind or anywhere)
    hook.start()
    until_signalled(hook.coalescer.stop)
    hook.stop()
    log.info("stopped", extra={"service": pod.service.name})
    return hook.threads.exit_code
