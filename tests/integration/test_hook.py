"""`lbgen hook` against an API server speaking the real list/watch protocol, with the real
`keepalived -t` as its check and a stand-in keepalived counting SIGHUPs. Every scenario asserts
the exact keepalived.conf (tests/golden/hook/) and the number of reloads."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from prometheus_client import generate_latest

from lbgen.render.keepalived import render_keepalived
from lbgen.runtime.hook.metrics import serve_metrics
from lbgen.runtime.hook.run import Hook
from lbgen.runtime.hook.settings import HookSettings
from lbgen.testbed.model.slices import endpoint, endpoint_slice
from lbgen.testbed.standins.apiserver import FakeApi, serve
from tests.conftest import ROOT, require_tool
from tests.support.hookrig import paper_pod, sighups, start_standin
from tests.support.waiting import stays, wait_for

pytestmark = pytest.mark.daemons

GOLDEN = ROOT / "tests/golden/hook"
# long enough for an event the hook should ignore to have been acted on, were it not ignored
QUIET = 0.5

THREE = [endpoint("172.16.1.5"), endpoint("172.16.2.7"), endpoint("172.16.3.9")]


@dataclass
class Rig:
    api: FakeApi
    hook: Hook
    folder: Path
    hups: Path
    update: bool

    @property
    def conf(self) -> Path:
        return self.folder / "keepalived.conf"

    def reloads(self) -> int:
        return len(sighups(self.hups))

    def idle(self) -> None:
        """Wait until no change is pending in the hook."""
        wait_for(lambda: self.hook.coalescer._since is None, what="the hook to apply")
        time.sleep(0.05)

    def expect(self, golden: str, reloads: int) -> None:
        wait_for(lambda: self.reloads() >= reloads, what=f"{reloads} reloads")
        self.idle()
        path = GOLDEN / f"{golden}.conf"
        if self.update:
            path.write_text(self.conf.read_text())
        assert self.conf.read_text() == path.read_text()
        assert self.reloads() == reloads

    def metric(self, name: str) -> float:
        value = self.hook.metrics.registry.get_sample_value(name)
        return 0.0 if value is None else value


@pytest.fixture
def rig(tmp_path: Path, update_golden: bool) -> Iterator[Rig]:
    keepalived = require_tool("keepalived")
    pod = paper_pod()
    # what `lbgen pod setup` hands keepalived: the starting config, no pools
    (tmp_path / "keepalived.conf").write_text(render_keepalived(pod.service, {}, pod.source))
    standin, pidfile, hups = start_standin(tmp_path)
    api = FakeApi("EndpointSlice")
    api.services["web1"] = {
        "kind": "Service",
        "apiVersion": "v1",
        "metadata": {"name": "web1", "namespace": "default"},
        "status": {},
    }
    api.put(endpoint_slice("nginx1-abc", THREE))
    settings = HookSettings(
        keepalived_conf=tmp_path / "keepalived.conf",
        keepalived_pid=pidfile,
        check_command=(keepalived, "-t", "-e", "-f"),
        settle_seconds=0.005,
        min_interval_seconds=0,
        metrics_port=0,
        watch_timeout_seconds=2,
        status_interval_seconds=0.2,
    )
    with serve(api) as api_client:
        hook = Hook(pod, settings, api_client)
        hook.follower.backoff.base, hook.follower.backoff.cap = 0.05, 0.2
        hook.start()
        try:
            yield Rig(api, hook, tmp_path, hups, update_golden)
        finally:
            hook.stop()
            standin.terminate()
            standin.wait(timeout=10)


def test_the_first_complete_list_becomes_the_pool(rig: Rig) -> None:
    rig.expect("three-ready", reloads=1)
    assert rig.hook.metrics.ready
    assert rig.metric("lbgen_hook_reloads_total") == 1
    assert (
        rig.hook.metrics.registry.get_sample_value("lbgen_hook_endpoints", {"state": "ready"}) == 3
    )


def test_added_and_removed_endpoints_reload_once_each(rig: Rig) -> None:
    rig.expect("three-ready", reloads=1)
    rig.api.put(endpoint_slice("nginx1-abc", [*THREE, endpoint("172.16.4.2")]))
    rig.expect("four-ready", reloads=2)
    rig.api.put(endpoint_slice("nginx1-abc", THREE))
    rig.expect("three-ready", reloads=3)


def test_a_second_slice_and_readiness_flips(rig: Rig) -> None:
    rig.expect("three-ready", reloads=1)
    rig.api.put(endpoint_slice("nginx1-xyz", [endpoint("172.16.5.5")]))
    rig.expect("two-slices", reloads=2)
    # not ready: out; serving but terminating: drained with weight 0
    rig.api.put(
        endpoint_slice(
            "nginx1-abc",
            [
                endpoint("172.16.1.5"),
                endpoint("172.16.2.7", ready=False),
                endpoint("172.16.3.9", ready=False, serving=True, terminating=True),
            ],
        )
    )
    rig.expect("flipped", reloads=3)
    assert (
        rig.hook.metrics.registry.get_sample_value("lbgen_hook_endpoints", {"state": "draining"})
        == 1
    )


def test_410_gone_mid_stream_relists_without_a_spurious_reload(rig: Rig) -> None:
    rig.expect("three-ready", reloads=1)
    lists = rig.api.lists
    rig.api.compact()
    wait_for(lambda: rig.api.lists > lists, what="a new list")
    stays(lambda: rig.reloads() == 1, for_=QUIET, what="no reload after the relist")
    rig.expect("three-ready", reloads=1)
    rig.api.put(endpoint_slice("nginx1-abc", [*THREE, endpoint("172.16.4.2")]))
    rig.expect("four-ready", reloads=2)


def test_a_dropped_stream_and_an_api_down_for_a_while_never_empty_the_pool(rig: Rig) -> None:
    rig.expect("three-ready", reloads=1)
    rig.api.failing_lists = 6
    rig.api.drop()
    wait_for(lambda: rig.api.failing_lists == 0, what="the failing lists to be tried")
    stays(lambda: rig.reloads() == 1, for_=QUIET, what="no reload while the API is down")
    rig.expect("three-ready", reloads=1)
    rig.api.put(endpoint_slice("nginx1-abc", [*THREE, endpoint("172.16.4.2")]))
    rig.expect("four-ready", reloads=2)


def test_a_malformed_event_is_survived(rig: Rig) -> None:
    rig.expect("three-ready", reloads=1)
    lists = rig.api.lists
    rig.api.garbage()
    wait_for(lambda: rig.api.lists > lists, what="a list after the bad event")
    stays(lambda: rig.reloads() == 1, for_=QUIET, what="no reload after the bad event")
    rig.expect("three-ready", reloads=1)


def test_an_empty_pool_only_when_the_api_says_so(rig: Rig) -> None:
    rig.expect("three-ready", reloads=1)
    rig.api.delete("nginx1-abc")
    rig.expect("empty", reloads=2)
    assert "virtual_server" not in rig.conf.read_text()


def test_a_config_keepalived_refuses_is_kept_aside_and_the_old_one_serves(rig: Rig) -> None:
    rig.expect("three-ready", reloads=1)
    rig.hook.reloader.check = ("false",)
    rig.api.put(endpoint_slice("nginx1-abc", [*THREE, endpoint("172.16.4.2")]))
    wait_for((rig.folder / "keepalived.conf.failed").exists, what=".failed")
    rig.expect("three-ready", reloads=1)
    assert rig.metric("lbgen_hook_failed_renders_total") == 1
    assert "172.16.4.2" in (rig.folder / "keepalived.conf.failed").read_text()


def test_the_service_status_shows_the_vips_and_is_set_once(rig: Rig) -> None:
    wait_for(lambda: rig.api.services["web1"]["status"] != {}, what="the status patch")
    stays(lambda: rig.api.status_patches == 1, for_=QUIET, what="one status patch")
    assert rig.api.services["web1"]["status"] == {
        "loadBalancer": {"ingress": [{"ip": "10.1.1.1", "ipMode": "Proxy"}]}
    }
    assert rig.api.status_patches == 1


def test_metrics_are_exposed(rig: Rig) -> None:
    rig.expect("three-ready", reloads=1)
    text = generate_latest(rig.hook.metrics.registry).decode()
    for name in (
        "lbgen_hook_reloads_total 1.0",
        "lbgen_hook_failed_renders_total 0.0",
        'lbgen_hook_endpoints{state="ready"} 3.0',
        "lbgen_hook_last_sync_age_seconds",
        "lbgen_hook_event_to_reload_seconds_count 1.0",
    ):
        assert name in text


def test_kill_9_mid_stream_then_restart_converges_without_an_empty_reload(tmp_path: Path) -> None:
    keepalived = require_tool("keepalived")
    pod = paper_pod()
    config = tmp_path / "lb.json"
    config.write_text(pod.model_dump_json())
    conf = tmp_path / "keepalived.conf"
    conf.write_text(render_keepalived(pod.service, {}, pod.source))
    standin, pidfile, hups = start_standin(tmp_path)
    api = FakeApi("EndpointSlice")
    api.put(endpoint_slice("nginx1-abc", THREE))
    env = {
        **os.environ,
        "LBGEN_HOOK_KEEPALIVED_CONF": str(conf),
        "LBGEN_HOOK_KEEPALIVED_PID": str(pidfile),
        "LBGEN_HOOK_CHECK_COMMAND": f'["{keepalived}", "-t", "-e", "-f"]',
        "LBGEN_HOOK_MIN_INTERVAL_SECONDS": "0",
        "LBGEN_HOOK_WATCH_TIMEOUT_SECONDS": "2",
    }
    contents: list[str] = []
    with serve(api) as api_client:
        argv = [
            sys.executable,
            "-m",
            "lbgen",
            "hook",
            "--config",
            str(config),
            "--api-server",
            api_client.host,
            "--metrics-port",
            "0",
        ]
        try:
            first = subprocess.Popen(argv, env=env, stderr=subprocess.DEVNULL)
            wait_for(lambda: len(sighups(hups)) == 1, what="the first reload")
            contents.append(conf.read_text())
            api.put(endpoint_slice("nginx1-abc", [*THREE, endpoint("172.16.4.2")]))
            os.kill(first.pid, signal.SIGKILL)
            first.wait(timeout=10)
            second = subprocess.Popen(argv, env=env, stderr=subprocess.DEVNULL)
            wait_for(lambda: "172.16.4.2" in conf.read_text(), what="convergence")
            wait_for(lambda: len(sighups(hups)) == 2, what="the restarted hook's reload")
            stays(lambda: len(sighups(hups)) == 2, for_=QUIET, what="no second reload")
            contents.append(conf.read_text())
            second.send_signal(signal.SIGTERM)
            assert second.wait(timeout=10) == 0
        finally:
            for process in (first, second, standin):
                if process.poll() is None:
                    process.kill()
                    process.wait()
    # the restarted hook signals keepalived once whatever the file holds (the first may have died
    # between rename and SIGHUP), and never with an empty pool
    assert len(sighups(hups)) == 2
    assert all("virtual_server" in text for text in contents)
    assert contents[0].count("real_server") == 3
    assert contents[1].count("real_server") == 4
    assert not (tmp_path / "keepalived.conf.failed").exists()


def test_healthz_and_readyz_over_http(rig: Rig) -> None:
    server = serve_metrics(rig.hook.metrics, 0, host="127.0.0.1")
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        rig.expect("three-ready", reloads=1)
        with urllib.request.urlopen(f"{base}/healthz", timeout=5) as answer:
            assert answer.status == 200
        with urllib.request.urlopen(f"{base}/readyz", timeout=5) as answer:
            assert answer.status == 200
        with urllib.request.urlopen(f"{base}/metrics", timeout=5) as answer:
            assert b"lbgen_hook_reloads_total 1.0" in answer.read()
        rig.hook.metrics.applied.clear()
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{base}/readyz", timeout=5)
        assert refused.value.code == 503
        refused.value.close()
    finally:
        server.shutdown()
        server.server_close()


# ---- hostile input and faults: skipped and counted, retried, or /healthz fails; never frozen

HOSTILE_EVENTS = [
    '{"type": "ERROR", "object": "the API said something odd"}',
    '["an", "array"]',
    '{"type": "ADDED", "object": {"metadata": "not a mapping"}}',
    '{"type": "RENAMED", "object": {"metadata": {"name": "x", "resourceVersion": "1"}}}',
]


@pytest.mark.parametrize("line", HOSTILE_EVENTS, ids=["error-string", "array", "meta", "type"])
def test_a_hostile_watch_event_is_survived_and_later_changes_apply(rig: Rig, line: str) -> None:
    rig.expect("three-ready", reloads=1)
    lists = rig.api.lists
    rig.api.inject(line)
    wait_for(lambda: rig.api.lists > lists, what="a list after the hostile event")
    rig.api.put(endpoint_slice("nginx1-abc", [*THREE, endpoint("172.16.4.2")]))
    rig.expect("four-ready", reloads=2)
    assert rig.hook.metrics.health() is None


def test_a_list_body_that_is_a_json_array_is_survived(rig: Rig) -> None:
    rig.expect("three-ready", reloads=1)
    rig.api.list_bodies.append(b"[]")
    rig.api.drop()
    rig.api.put(endpoint_slice("nginx1-abc", [*THREE, endpoint("172.16.4.2")]))
    rig.expect("four-ready", reloads=2)
    assert rig.hook.metrics.health() is None


def test_malformed_endpoints_are_skipped_counted_and_the_rest_applied(rig: Rig) -> None:
    rig.expect("three-ready", reloads=1)
    hostile = endpoint_slice("nginx1-abc", [*THREE, endpoint("172.16.4.2")])
    hostile["endpoints"] += [
        {"addresses": ["010.016.001.005"], "conditions": {"ready": True}},
        {"addresses": ["fd00::5"], "conditions": {"ready": True}},
        {"addresses": ["172.16.9.9"], "conditions": ["ready"]},
    ]
    rig.api.put(hostile)
    rig.expect("four-ready", reloads=2)
    skipped = rig.hook.metrics.registry.get_sample_value
    assert skipped("lbgen_hook_skipped_items_total", {"kind": "bad-address"}) == 2
    assert skipped("lbgen_hook_skipped_items_total", {"kind": "malformed-endpoint"}) == 1


def test_a_port_the_slices_do_not_resolve_keeps_the_pool(rig: Rig) -> None:
    rig.expect("three-ready", reloads=1)
    renamed = endpoint_slice("nginx1-abc", [*THREE, endpoint("172.16.4.2")])
    renamed["ports"] = [{"name": "web", "port": 8080, "protocol": "TCP"}]
    rig.api.put(renamed)
    wait_for(lambda: rig.metric("lbgen_hook_unresolved_ports") == 1, what="unresolved")
    rig.expect("three-ready", reloads=1)


def test_a_silent_stream_is_noticed_and_listed_again(rig: Rig) -> None:
    """A watch that goes quiet and stays open (no timeoutSeconds honoured, no FIN): the read
    timeout (timeoutSeconds + slack) ends it and the hook lists again."""
    rig.expect("three-ready", reloads=1)
    lists = rig.api.lists
    rig.api.go_silent()
    try:
        rig.api.put(endpoint_slice("nginx1-abc", [*THREE, endpoint("172.16.4.2")]))
        wait_for(lambda: rig.api.lists > lists, timeout=15, what="a list after the silence")
        rig.expect("four-ready", reloads=2)
    finally:
        rig.api.go_silent(silent=False)


def test_a_failed_write_is_retried_with_backoff_and_counted(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    rig.expect("three-ready", reloads=1)
    rig.hook.write_backoff.base = 0.05
    real = rig.hook.reloader.apply
    failures = []

    def full_disk(text: str, *, signal_anyway: bool = False) -> object:
        if len(failures) < 2:
            failures.append(1)
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(text, signal_anyway=signal_anyway)

    monkeypatch.setattr(rig.hook.reloader, "apply", full_disk)
    rig.api.put(endpoint_slice("nginx1-abc", [*THREE, endpoint("172.16.4.2")]))
    rig.expect("four-ready", reloads=2)
    assert rig.metric("lbgen_hook_write_errors_total") == 2


def test_a_thread_that_dies_fails_healthz(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    server = serve_metrics(rig.hook.metrics, 0, host="127.0.0.1")
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        rig.expect("three-ready", reloads=1)

        def broken() -> object:
            raise RuntimeError("a bug")

        monkeypatch.setattr(rig.hook.follower, "list_once", broken)
        rig.api.drop()
        wait_for(lambda: rig.hook.metrics.health() is not None, what="the dead thread")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{base}/healthz", timeout=5)
        assert refused.value.code == 500
        assert b"the follow thread died (RuntimeError: a bug)" in refused.value.read()
        refused.value.close()
    finally:
        server.shutdown()
        server.server_close()
