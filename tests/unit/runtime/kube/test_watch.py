"""The shared list-then-watch loop, against a server that speaks the real wire protocol."""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import kubernetes
import pytest

from lbgen.runtime.kube.watch import Backoff, Follower, Objects
from lbgen.testbed.standins.apiserver import FakeApi, serve


def pod(name: str, ip: str) -> dict[str, Any]:
    return {
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "lbgen-system"},
        "status": {"podIP": ip},
    }


class Recorder:
    def __init__(self) -> None:
        self.states: list[dict[str, str]] = []
        self.changed = threading.Condition()

    def __call__(self, objects: Objects) -> None:
        with self.changed:
            self.states.append({k: v["status"]["podIP"] for k, v in objects.items()})
            self.changed.notify_all()

    def wait_for(self, test: Callable[[dict[str, str]], bool], timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        with self.changed:
            while not (self.states and test(self.states[-1])):
                left = deadline - time.monotonic()
                assert left > 0, f"never reached; states: {self.states[-3:]}"
                self.changed.wait(left)


@pytest.fixture
def cluster() -> Iterator[tuple[FakeApi, Recorder, Follower]]:
    api = FakeApi("Pod")
    api.put(pod("lb-a", "172.16.4.2"))
    recorder = Recorder()
    with serve(api) as api_client:
        follower = Follower(
            api_client.lister("api/v1", "pods"),
            "lbgen-system",
            recorder,
            watch_timeout=1,
            backoff=Backoff(base=0.05, cap=0.2, rng=random.Random(7)),
        )
        thread = threading.Thread(target=follower.run, daemon=True)
        thread.start()
        try:
            yield api, recorder, follower
        finally:
            follower.stop.set()
            thread.join(timeout=10)
            assert not thread.is_alive()


def test_the_first_state_is_the_complete_list_then_events_follow(cluster: Any) -> None:
    api, seen, _ = cluster
    seen.wait_for(lambda s: s == {"lbgen-system/lb-a": "172.16.4.2"})
    api.put(pod("lb-b", "172.16.5.2"))
    seen.wait_for(lambda s: len(s) == 2)
    api.delete("lb-a")
    seen.wait_for(lambda s: s == {"lbgen-system/lb-b": "172.16.5.2"})
    assert seen.states[0] == {"lbgen-system/lb-a": "172.16.4.2"}
    assert api.lists == 1


def test_410_gone_lists_again_and_misses_nothing(cluster: Any) -> None:
    api, seen, _ = cluster
    seen.wait_for(lambda s: len(s) == 1)
    api.compact()
    api.put(pod("lb-b", "172.16.5.2"))
    seen.wait_for(lambda s: len(s) == 2)
    assert api.lists >= 2


def test_a_dropped_stream_and_a_failing_api_are_retried_with_backoff(cluster: Any) -> None:
    api, seen, follower = cluster
    seen.wait_for(lambda s: len(s) == 1)
    api.failing_lists = 3
    api.drop()
    api.put(pod("lb-b", "172.16.5.2"))
    seen.wait_for(lambda s: len(s) == 2)
    # no state is ever handed over from a failed list: every state is complete
    assert all("lbgen-system/lb-a" in s for s in seen.states)
    assert follower.backoff.failures == 0  # reset by the successful list


def test_backoff_is_jittered_and_capped() -> None:
    backoff = Backoff(base=1, cap=8, rng=random.Random(1))
    delays = [backoff.next_delay() for _ in range(8)]
    assert all(0.5 <= d <= 8 for d in delays)
    assert max(delays[4:]) <= 8
    assert delays[0] < delays[3]


def test_the_official_client_reads_the_stand_in_as_lbgens_client_does() -> None:
    """The stand-in API is only worth its tests if it speaks the protocol the official
    kubernetes client reads: both list the same objects, and both read a watch's events."""
    api = FakeApi("Pod")
    api.put(pod("lb-a", "172.16.4.2"))
    with serve(api) as ours:
        official = kubernetes.client.CoreV1Api(
            kubernetes.client.ApiClient(kubernetes.client.Configuration(host=ours.host))
        )
        listed = official.list_namespaced_pod("lbgen-system", _preload_content=False)
        theirs = json.loads(listed.data)
        mine = json.loads(ours.lister("api/v1", "pods")("lbgen-system").data)
        assert theirs == mine
        version = mine["metadata"]["resourceVersion"]
        api.put(pod("lb-b", "172.16.5.2"))
        stream = kubernetes.watch.Watch().stream(
            official.list_namespaced_pod,
            "lbgen-system",
            resource_version=version,
            timeout_seconds=1,
        )
        events = [
            (e["type"], e["raw_object"]["metadata"]["name"])
            for e in stream
            if e["type"] != "BOOKMARK"
        ]
        assert events == [("ADDED", "lb-b")]
