"""Can this LB pod's own datapath serve? One rule, read from /proc and /run/lbgen, for the
announcer (per family: announce the prefix or withdraw it) and the readiness probe (the same,
without the backend's part: an empty backend must not stall a rollout). Light imports only:
the probe runs every 2 s and the announcer for the pod's life."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from ipaddress import ip_address
from pathlib import Path
from typing import Any

from lbgen.contract import (
    CHECKERS_PID,
    HOOK_STATUS,
    IPVS_TABLE,
    IPVS_TABLE_ENV,
    KEEPALIVED_PID,
    RUN_DIR,
)
from lbgen.runtime.ipvs import Dest, VirtualKey, read_ipvs
from lbgen.runtime.pod.probes import established_bgp_peers, readiness_problems
from lbgen.runtime.pod.process import alive, silence

Table = dict[VirtualKey, tuple[tuple[Dest, int], ...]]


@dataclass(frozen=True)
class Observed:
    """What the rule reads, gathered at one moment (observe)."""

    ipvs: Table | None  # None: the table could not be read (a check that cannot run fails)
    keepalived: tuple[str, ...]  # why keepalived's processes are not running (empty: they run)
    hook: str | None  # why the hook is not alive and making progress (None: it is)
    # the virtual servers the hook put in keepalived.conf: those with a real server
    configured: frozenset[VirtualKey]


def _shown(keys: Iterable[VirtualKey]) -> str:
    return ", ".join(f"{p} {vip}:{port}" for p, vip, port in keys)


def _order(key: VirtualKey) -> tuple[int, str, str, int]:
    return (key[1].version, key[0], str(key[1]), key[2])


def datapath_problems(
    wanted: Iterable[VirtualKey], seen: Observed, *, backend: bool = True
) -> list[str]:
    """Why these virtual servers cannot be served here: keepalived's processes, the hook, and
    IPVS holding each one (`backend`: with a real server of weight > 0)."""
    problems = [*seen.keepalived, *([seen.hook] if seen.hook else [])]
    if seen.ipvs is None:
        return [*problems, "the IPVS table cannot be read"]
    keys = sorted(set(wanted), key=_order)
    missing = [k for k in keys if k not in seen.ipvs]
    if missing:
        problems.append(f"IPVS has no virtual service for {_shown(missing)}")
    if backend:
        empty = [k for k in keys if k in seen.ipvs and not any(w > 0 for _, w in seen.ipvs[k])]
        if empty:
            problems.append(f"IPVS has no real server of weight > 0 for {_shown(empty)}")
    return problems


def hook_problem(
    status: str | None, now: float, stale: float
) -> tuple[str | None, set[VirtualKey]]:
    """Why the hook is not alive and making progress, from its status file's heartbeat, and
    the virtual servers it says it configured."""
    if status is None:
        return "the hook has written no status yet", set()
    try:
        silent = silence(status, now)
        listed = json.loads(status)["configured"]
        configured = {(p, ip_address(vip), int(port)) for p, vip, port in listed}
    except (ValueError, KeyError, TypeError):
        return "the hook's status cannot be read", set()
    if silent > stale:
        return f"the hook has been silent for {silent:.1f} s (frozen or dead)", configured
    return None, configured


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None


def observe(
    env: Mapping[str, str],
    hook_stale: float,
    run: Path = Path(RUN_DIR),
    proc: Path = Path("/proc"),
) -> Observed:
    """The pod's datapath now: keepalived's two processes, the hook's status, the IPVS table
    (the kernel's, or the one LBGEN_IPVS_TABLE names)."""
    keepalived = tuple(
        f"keepalived: {why}"
        for pid in (KEEPALIVED_PID, CHECKERS_PID)
        if (why := alive(run / pid.name, proc, stopped_is_dead=True))
    )
    hook, configured = hook_problem(_read(run / HOOK_STATUS.name), time.monotonic(), hook_stale)
    table = _read(Path(env.get(IPVS_TABLE_ENV) or proc / IPVS_TABLE.relative_to("/proc")))
    return Observed(
        ipvs=None if table is None else read_ipvs(table),
        keepalived=keepalived,
        hook=hook,
        configured=frozenset(configured),
    )


def wanted_keys(service: Mapping[str, Any], version: int | None = None) -> list[VirtualKey]:
    """Every VIP:port of a service (lb.json's `service`) of one family, or of both."""
    vips = [ip_address(v) for v in [*service["vips"], *service.get("vips6", [])]]
    return [
        (p["protocol"], vip, p["port"])
        for vip in vips
        if version is None or vip.version == version
        for p in service["ports"]
    ]


def ready(
    lb_json: str, env: Mapping[str, str], proc: Path = Path("/proc"), run: Path = Path(RUN_DIR)
) -> list[str]:
    """The readiness probe: a session with a reflector, and the datapath rule over what the
    hook configured (a backend with no ready endpoint has no virtual server to want)."""
    service = json.loads(lb_json)["service"]
    # the sessions' family: the reflectors' addresses are in it
    version = ip_address(service["reflectors"][0]["address"]).version
    try:
        pod_ip = ip_address(env.get("POD_IP", ""))
    except ValueError:
        pod_ip = None
    if pod_ip is None or pod_ip.version != version:
        return [f"POD_IP is not set to the pod's IPv{version} address (downward API status.podIP)"]
    tcp = (proc / ("net/tcp" if version == 4 else "net/tcp6")).read_text(encoding="ascii")
    seen = observe(env, float(service["announce"]["hook_stale"]), run, proc)
    return [
        *readiness_problems(
            established_bgp_peers(tcp, pod_ip),
            (ip_address(rr["address"]) for rr in service["reflectors"]),
        ),
        *datapath_problems(seen.configured & set(wanted_keys(service)), seen, backend=False),
    ]
