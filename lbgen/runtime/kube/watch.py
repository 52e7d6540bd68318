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

from lbgen.runtime.kube.client import ApiError, ListCall, response_lines

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


class MalformedError(ValueError):
    """The API sent something that is not the shape the protocol promises."""


def _key(obj: Any) -> str | None:
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    if not isinstance(meta, dict) or not isinstance(meta.get("name"), str):
        return None
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
    # told of each failed list or watch (the caller counts them; its state stays as it was)
    on_trouble: Callable[[], None] = lambda: None

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
        if not isinstance(document, dict) or not isinstance(document.get("metadata"), dict):
            raise MalformedError("the list is not a JSON object with metadata")
        items = document.get("items") or []
        if not isinstance(items, list):
            raise MalformedError("the list's items is not a list")
        objects = {}
        for item in items:
            key = _key(item)
            if key is None:
                log.warning("skipped a listed object without metadata.name")
                continue
            objects[key] = item
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
                kind = event.get("type") if isinstance(event, dict) else None
                obj = event.get("object") if isinstance(event, dict) else None
                if kind == "ERROR":
                    status = obj if isinstance(obj, dict) else {}
                    if status.get("code") == GONE:
                        raise ExpiredError(str(status.get("message", "resourceVersion expired")))
                    raise ApiError(status.get("code"), str(status.get("message", obj)))
                meta = obj.get("metadata") if isinstance(obj, dict) else None
                if not isinstance(meta, dict) or "resourceVersion" not in meta:
                    raise MalformedError(f"a watch event without an object: {line[:80]}")
                version = str(meta["resourceVersion"])
                if kind == "BOOKMARK":
                    continue
                key = _key(obj)
                if (
                    key is None
                    or not isinstance(obj, dict)
                    or kind not in ("ADDED", "MODIFIED", "DELETED")
                ):
                    raise MalformedError(f"a watch event lbgen cannot apply: {line[:80]}")
                if kind == "DELETED":
                    objects.pop(key, None)
                else:
                    objects[key] = dict(obj)
                self.on_state(dict(objects))
        finally:
            response.close()
            response.release_conn()
        return version

    @property
    def stale(self) -> bool:
        """The last list or watch failed and no list has succeeded since: the caller's state
        is the last one it had, not the API's."""
        return self.backoff.failures > 0

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
            except (ApiError, HTTPError, OSError, ValueError, LookupError, TypeError) as error:
                self.on_trouble()
                delay = self.backoff.next_delay()
                log.warning(
                    "API trouble (%s: %s); retrying in %.1f s", type(error).__name__, error, delay
                )
                self.stop.wait(delay)
