"""A small stand-in Kubernetes API server: list and watch (chunked JSON lines) of one resource
kind, with resourceVersions, bookmarks, label selectors (equality) and namespaces, 410 Gone
after compaction, dropped connections, malformed lines and failing lists on demand, and the
Service status subresource. It speaks the wire protocol the real kubernetes client reads. The
testbed serves backend EndpointSlices with it; the hook's tests drive its failure modes."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from lbgen.runtime.kube.client import KubeClient
from lbgen.runtime.kube.serving import http_server

Selector = Callable[[dict[str, Any]], bool]


class FakeApi:
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.lock = threading.Condition()
        self.version = 100
        self.objects: dict[str, dict[str, Any]] = {}
        self.log: list[tuple[int, str, dict[str, Any]]] = []
        self.compacted = 0  # watches from below this version get 410 Gone
        self.failing_lists = 0
        self.lists = 0
        self.watches = 0
        self.drop_watch = False
        self.garbage_next = False
        self.raw_next: list[str] = []  # lines the next watches send as they are
        self.silent = False  # watches go quiet: the connection stays open, nothing comes
        self.list_bodies: list[bytes] = []  # bodies the next lists answer with, as they are
        self.services: dict[str, dict[str, Any]] = {}
        self.status_patches = 0

    # what a test does to the cluster
    def put(self, obj: dict[str, Any]) -> None:
        with self.lock:
            self.version += 1
            obj = json.loads(json.dumps(obj))
            obj["metadata"]["resourceVersion"] = str(self.version)
            name = obj["metadata"]["name"]
            kind = "MODIFIED" if name in self.objects else "ADDED"
            self.objects[name] = obj
            self.log.append((self.version, kind, obj))
            self.lock.notify_all()

    def delete(self, name: str) -> None:
        with self.lock:
            self.version += 1
            obj = self.objects.pop(name)
            obj["metadata"]["resourceVersion"] = str(self.version)
            self.log.append((self.version, "DELETED", obj))
            self.lock.notify_all()

    def compact(self) -> None:
        """Forget history: open and future watches from older versions get 410 Gone."""
        with self.lock:
            self.compacted = self.version + 1
            self.lock.notify_all()

    def garbage(self) -> None:
        """The next watch line is not JSON."""
        with self.lock:
            self.garbage_next = True
            self.lock.notify_all()

    def inject(self, line: str) -> None:
        """The next watch line is exactly `line` (a hostile event)."""
        with self.lock:
            self.raw_next.append(line)
            self.lock.notify_all()

    def go_silent(self, *, silent: bool = True) -> None:
        """Open and future watches stop sending anything, ignoring timeoutSeconds, and keep
        the connection open: a half-open stream after a NAT timeout or a failover."""
        with self.lock:
            self.silent = silent
            self.lock.notify_all()

    def drop(self) -> None:
        with self.lock:
            self.drop_watch = True
            self.lock.notify_all()

    # what the handler serves
    def listing(self, selected: Selector = lambda _obj: True) -> dict[str, Any]:
        with self.lock:
            self.lists += 1
            return {
                "kind": f"{self.kind}List",
                "apiVersion": "v1",
                "metadata": {"resourceVersion": str(self.version)},
                "items": [
                    self.objects[k] for k in sorted(self.objects) if selected(self.objects[k])
                ],
            }

    def events(
        self, since: int, timeout: float, selected: Selector = lambda _obj: True
    ) -> Iterator[dict[str, Any] | None]:
        """Watch events after `since`; None means: end the stream abruptly."""
        deadline = time.monotonic() + timeout
        with self.lock:
            self.watches += 1
        while time.monotonic() < deadline:
            with self.lock:
                if since < self.compacted:
                    yield {
                        "type": "ERROR",
                        "object": {
                            "kind": "Status",
                            "code": 410,
                            "reason": "Expired",
                            "message": "too old",
                        },
                    }
                    return
                if self.drop_watch:
                    self.drop_watch = False
                    yield None
                    return
                if self.garbage_next:
                    self.garbage_next = False
                    yield {"garbage": True}
                    continue
                if self.raw_next:
                    yield {"raw": self.raw_next.pop(0)}
                    continue
                if self.silent:
                    deadline = time.monotonic() + 3600
                    self.lock.wait(timeout=0.05)
                    continue
                fresh = [e for e in self.log if e[0] > since and selected(e[2])]
                # events the selector leaves out are passed too
                since = max([since, *(e[0] for e in self.log)])
                if not fresh:
                    self.lock.wait(timeout=0.05)
                    continue
            for _version, kind, obj in fresh:
                yield {"type": kind, "object": obj}
        yield {
            "type": "BOOKMARK",
            "object": {"kind": self.kind, "metadata": {"resourceVersion": str(since)}},
        }


def selector(path: str, labels: str) -> Selector:
    """Objects in the path's namespace (if any) carrying every `key=value` of the selector."""
    parts = path.split("/")
    namespace = parts[parts.index("namespaces") + 1] if "namespaces" in parts else None
    wanted = dict(term.split("=", 1) for term in labels.split(",") if "=" in term)

    def selected(obj: dict[str, Any]) -> bool:
        meta = obj.get("metadata") or {}
        if namespace is not None and meta.get("namespace", namespace) != namespace:
            return False
        have = meta.get("labels") or {}
        return all(have.get(k) == v for k, v in wanted.items())

    return selected


class _Handler(BaseHTTPRequestHandler):
    """The stand-in's HTTP side: lists, watches, status patches; `api` is set per server."""

    api: FakeApi
    protocol_version = "HTTP/1.1"

    def log_message(self, *_args: Any) -> None:
        pass

    def do_GET(self) -> None:
        url = urlparse(self.path)
        if "/services/" in url.path:
            name = url.path.split("/services/")[1].split("/")[0]
            with self.api.lock:
                found = self.api.services.get(name)
            self._send(200 if found else 404, found or {"kind": "Status", "code": 404})
            return
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        selected = selector(url.path, query.get("labelSelector", ""))
        if query.get("watch") == "true":
            self._watch(
                selected,
                int(query.get("resourceVersion", "0")),
                float(query.get("timeoutSeconds", "5")),
            )
            return
        if self.api.failing_lists:
            self.api.failing_lists -= 1
            self._send(500, {"kind": "Status", "code": 500, "message": "etcd is down"})
            return
        if self.api.list_bodies:
            with self.api.lock:
                body = self.api.list_bodies.pop(0)
            self._send_raw(200, body)
            return
        self._send(200, self.api.listing(selected))

    def do_PUT(self) -> None:
        """Replace an object (a test changes the cluster): .../<kind>/<name>."""
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if urlparse(self.path).path.rsplit("/", 1)[-1] != body["metadata"]["name"]:
            self._send(400, {"kind": "Status", "code": 400, "message": "name mismatch"})
            return
        self.api.put(body)
        self._send(200, body)

    def do_PATCH(self) -> None:
        name = urlparse(self.path).path.split("/services/")[1].split("/")[0]
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with self.api.lock:
            service = self.api.services[name]
            service["status"] = body["status"]
            self.api.status_patches += 1
        self._send(200, service)

    def _send(self, code: int, body: dict[str, Any]) -> None:
        self._send_raw(code, json.dumps(body).encode())

    def _send_raw(self, code: int, data: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _watch(self, selected: Selector, since: int, timeout: float) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for event in self.api.events(since, min(timeout, 5.0), selected):
            if event is None:
                self.close_connection = True
                return  # no final chunk: the client sees a broken stream
            if "raw" in event:
                line = str(event["raw"]).encode() + b"\n"
            elif "garbage" in event:
                line = b"{not json\n"
            else:
                line = json.dumps(event).encode() + b"\n"
            self.wfile.write(f"{len(line):x}\r\n".encode() + line + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")


def _handler(api: FakeApi) -> type[BaseHTTPRequestHandler]:
    return type("Handler", (_Handler,), {"api": api})


@contextmanager
def serve(api: FakeApi) -> Iterator[KubeClient]:
    server = http_server("127.0.0.1", 0, _handler(api))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield KubeClient(f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def served_apart(
    objects: dict[str, Any], *, python: str = sys.executable, netns: str | None = None
) -> Iterator[str]:
    """This stand-in in a process of its own (as a real API server is elsewhere), on a free
    loopback port of `netns`, serving `objects` ({objects | endpointslices, services}); yields
    its URL, and ends it on exit."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "objects.json"
        path.write_text(json.dumps(objects), encoding="utf-8")
        inside = ["ip", "netns", "exec", netns] if netns else []
        process = subprocess.Popen(
            [
                *(*inside, python, "-m", "lbgen.testbed.standins.apiserver"),
                *("--listen", "127.0.0.1:0", "--objects", str(path)),
            ],
            stdout=subprocess.PIPE,
            text=True,
            cwd=folder,
        )
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            if not line.startswith("listening on "):
                raise RuntimeError(f"the stand-in API server did not start: {line!r}")
            yield "http://" + line.removeprefix("listening on ").strip()
        finally:
            process.kill()
            process.wait()
            if process.stdout is not None:
                process.stdout.close()


def main() -> None:
    """Serve the EndpointSlices and Services of a JSON file on ADDRESS:PORT, until killed."""
    import argparse  # noqa: PLC0415

    parser = argparse.ArgumentParser()
    parser.add_argument("--listen", required=True, help="address:port")
    parser.add_argument(
        "--objects", required=True, help="JSON: {endpointslices | objects: [], services: []}"
    )
    args = parser.parse_args()
    with open(args.objects, encoding="utf-8") as stream:  # noqa: PTH123
        objects = json.load(stream)
    api = FakeApi("EndpointSlice")
    for item in objects.get("objects") or objects.get("endpointslices") or []:
        api.put(item)
    for service in objects["services"]:
        api.services[service["metadata"]["name"]] = service
    host, port = args.listen.rsplit(":", 1)
    host = host.strip("[]")  # an IPv6 address, as a URL writes it
    server = http_server(host, int(port), _handler(api))
    # with port 0 the caller learns the port from this line
    print(f"listening on {host}:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
