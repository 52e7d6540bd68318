"""The few API calls lbgen's runtime makes, over urllib3: list and watch (EndpointSlices,
Pods), read and patch a Service's status. The official client loads every API model at import
(about 24 MB of the LB pod's hook, 126 MB of the image); these calls need none of them.

In a cluster the address, token and CA come from the ServiceAccount mount, as client-go reads
them; the token is read again on every request, since the kubelet rotates it."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote, urlencode

import urllib3

from lbgen.contract import SERVICE_ACCOUNT_DIR

ACCOUNT = Path(SERVICE_ACCOUNT_DIR)
# a list or a status read that takes longer than this is a dead connection
READ_TIMEOUT = 30.0
CONNECT_TIMEOUT = 5.0
# a watch ends by itself after timeoutSeconds; a stream silent for that long and then some is
# dead (a NAT timeout, an API server failover): the read timeout ends it, and lbgen lists again
WATCH_GRACE_MAX = 30.0


class ApiError(Exception):
    """The API answered with an error status (or could not be reached)."""

    def __init__(self, status: int | None, reason: str) -> None:
        super().__init__(f"{status or 'no answer'}: {reason}")
        self.status = status
        self.reason = reason


class Response(Protocol):
    """What a list or watch call returns: urllib3's streaming response."""

    data: bytes

    def stream(self, amt: int | None = ...) -> Iterator[bytes]: ...
    def release_conn(self) -> None: ...
    def close(self) -> None: ...


def response_lines(response: Response) -> Iterator[str]:
    """A watch stream's events, one JSON document a line."""
    pending = b""
    for chunk in response.stream(65536):
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            if line.strip():
                yield line.decode("utf-8")
    if pending.strip():
        yield pending.decode("utf-8")


@dataclass
class KubeClient:
    host: str
    token_file: Path | None = None
    ca_file: Path | None = None
    pool: urllib3.PoolManager = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.ca_file is not None:
            self.pool = urllib3.PoolManager(cert_reqs="CERT_REQUIRED", ca_certs=str(self.ca_file))
        else:
            self.pool = urllib3.PoolManager()

    @classmethod
    def in_cluster(cls, account: Path = ACCOUNT, env: Mapping[str, str] = os.environ) -> KubeClient:
        host, port = env.get("KUBERNETES_SERVICE_HOST"), env.get("KUBERNETES_SERVICE_PORT")
        if not host or not port:
            raise ApiError(None, "not in a cluster: KUBERNETES_SERVICE_HOST/PORT are not set")
        host = f"[{host}]" if ":" in host else host
        return cls(f"https://{host}:{port}", account / "token", account / "ca.crt")

    def _headers(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        headers = {"Accept": "application/json", **(extra or {})}
        if self.token_file is not None:
            token = self.token_file.read_text(encoding="utf-8").strip()
            headers["Authorization"] = f"Bearer {token}"
        return headers

    def request(
        self,
        method: str,
        path: str,
        query: Mapping[str, str] | None = None,
        *,
        body: bytes | None = None,
        content_type: str | None = None,
        read_timeout: float = READ_TIMEOUT,
        stream: bool = False,
    ) -> Response:
        url = self.host.rstrip("/") + path + (f"?{urlencode(query)}" if query else "")
        headers = self._headers({"Content-Type": content_type} if content_type else None)
        try:
            response = self.pool.request(
                method,
                url,
                body=body,
                headers=headers,
                preload_content=not stream,
                timeout=urllib3.Timeout(connect=CONNECT_TIMEOUT, read=read_timeout),
                retries=False,
            )
        except urllib3.exceptions.HTTPError as error:
            raise ApiError(None, f"{method} {path}: {error}") from error
        if response.status >= 400:
            detail = response.read() if stream else response.data
            response.release_conn()
            raise ApiError(response.status, _reason(detail))
        return response  # type: ignore[return-value]

    def lister(self, group_version: str, resource: str) -> ListCall:
        """A list/watch call for a namespaced resource: `api/v1` `pods`,
        `apis/discovery.k8s.io/v1` `endpointslices`."""

        def call(
            namespace: str,
            *,
            label_selector: str = "",
            field_selector: str = "",
            watch: bool = False,
            resource_version: str | None = None,
            timeout_seconds: int | None = None,
        ) -> Response:
            query = {
                k: v
                for k, v in (
                    ("labelSelector", label_selector),
                    ("fieldSelector", field_selector),
                    ("watch", "true" if watch else ""),
                    ("allowWatchBookmarks", "true" if watch else ""),
                    ("resourceVersion", resource_version or ""),
                    ("timeoutSeconds", str(timeout_seconds) if timeout_seconds else ""),
                )
                if v
            }
            path = f"/{group_version}/namespaces/{quote(namespace)}/{resource}"
            timeout = float(timeout_seconds or 0)
            read = timeout + min(WATCH_GRACE_MAX, max(2.0, timeout)) if watch else READ_TIMEOUT
            return self.request("GET", path, query, read_timeout=read, stream=watch)

        return call

    def read_service_status(self, name: str, namespace: str) -> dict[str, Any]:
        path = f"/api/v1/namespaces/{quote(namespace)}/services/{quote(name)}/status"
        found = json.loads(self.request("GET", path).data)
        if not isinstance(found, dict):
            raise ApiError(200, "the Service is not a JSON object")
        return found

    def patch_service_status(self, name: str, namespace: str, body: dict[str, Any]) -> None:
        path = f"/api/v1/namespaces/{quote(namespace)}/services/{quote(name)}/status"
        data = json.dumps(body).encode()
        self.request("PATCH", path, body=data, content_type="application/merge-patch+json")


class ListCall(Protocol):
    def __call__(
        self,
        namespace: str,
        *,
        label_selector: str = "",
        field_selector: str = "",
        watch: bool = False,
        resource_version: str | None = None,
        timeout_seconds: int | None = None,
    ) -> Response: ...


def _reason(body: bytes) -> str:
    try:
        status = json.loads(body)
    except ValueError:
        return body[:200].decode("utf-8", errors="replace")
    if isinstance(status, dict):
        return str(status.get("message") or status.get("reason") or "error")
    return "error"
