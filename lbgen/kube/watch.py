"""List, then watch from the list's resourceVersion; on 410 Gone list again; on any other
failure back off (jittered, capped) and resume. The caller sees whole snapshots, and only after
a complete list: never a partial state."""

from __future__ import annotations

import json
import logging
import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from urllib3.exceptions import HTTPError

from lbgen.kube.client import ApiError, ListCall, response_lines

log = logging.getLogger(__name__)

Objects = Mapping[str, dict[str, Any]]
GONE = 410


@dataclass
class Backoff:
    """Exponential, jittered, capped delays; reset after a successful list."""

    base: float = 0.5
    cap: float = 30.0
    rng: random.Random = field(default_factory=random.Random)
    failures: int = 0

    def next_delay(self) -> float:
        self.failures += 1
        delay: float = min(self.cap, self.base * 2 ** (self.failures - 1))
        return delay * self.rng.uniform(0.5, 1.0)

    def reset(self) -> None:
        self.failures = 0


class ExpiredError(Exception):
    """The watch's resourceVersion is too old (410 Gone): list again."""


def _key(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    return f"{meta.get('namespace', '')}/{meta['name']}"


@dataclass
class Follower:
    """Keeps a snapshot of the objects a list call selects, and hands it to `on_state`."""

    list_call: ListCall
    namespace: str
    on_state: Callable[[Objects], None]
    label_selector: str = ""
    field_selector: str = ""
    watch_timeout: int = 300
    backoff: Backoff = field(default_factory=Backoff)
    stop: threading.Event = field(default_factory=threading.Event)

    def _call(self, **kwargs: Any) -> Any:
        return self.list_call(
            self.namespace,
            label_selector=self.label_selector,
            field_selector=self.field_selector,
            **kwargs,
        )

    def list_once(self) -> tuple[dict[str, dict[str, Any]], str]:
        response = self._call()
        try:
            document = json.loads(response.data)
        finally:
            response.release_conn()
        objects = {_key(item): item for item in document.get("items") or []}
        return objects, str(document["metadata"]["resourceVersion"])

    def watch_once(self, objects: dict[str, dict[str, Any]], version: str) -> str:
        """Apply one watch stream's events to `objects`; return the last resourceVersion."""
        response = self._call(
            watch=True, resource_version=version, timeout_seconds=self.watch_timeout
        )
        try:
            for line in response_lines(response):
                if self.stop.is_set():
                    break
                event = json.loads(line)
                kind, obj = event["type"], event["object"]
                if kind == "ERROR":
                    if obj.get("code") == GONE:
                        raise ExpiredError(obj.get("message", "resourceVersion expired"))
                    raise ApiError(obj.get("code"), str(obj.get("message")))
                version = str(obj["metadata"]["resourceVersion"])
                if kind == "BOOKMARK":
                    continue
                if kind == "DELETED":
                    objects.pop(_key(obj), None)
                elif kind in ("ADDED", "MODIFIED"):
                    objects[_key(obj)] = obj
                else:
                    raise ValueError(f"unknown watch event type {kind!r}")
                self.on_state(dict(objects))
        finally:
            response.close()
            response.release_conn()
        return version

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                objects, version = self.list_once()
                self.backoff.reset()
                self.on_state(dict(objects))
                while not self.stop.is_set():
                    version = self.watch_once(objects, version)
            except ExpiredError as gone:
                log.info("watch expired (%s); listing again", gone)
            except (ApiError, HTTPError, OSError, ValueError, KeyError, TypeError) as error:
                delay = self.backoff.next_delay()
                log.warning(
                    "API trouble (%s: %s); retrying in %.1f s", type(error).__name__, error, delay
                )
                self.stop.wait(delay)
