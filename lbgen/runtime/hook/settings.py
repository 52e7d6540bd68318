"""The hook's settings: flags override environment variables (LBGEN_HOOK_*), which override
the defaults that match the generated pod spec. A list-valued variable is JSON."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lbgen.contract import KEEPALIVED_CONF, KEEPALIVED_PID, LB_CONFIG
from lbgen.errors import LbgenError

ENV_PREFIX = "LBGEN_HOOK_"


class HookSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    config: Path = Path(LB_CONFIG)
    keepalived_conf: Path = Path(KEEPALIVED_CONF)
    keepalived_pid: Path = Path(KEEPALIVED_PID)
    check_command: tuple[str, ...] = ("keepalived", "-t", "-e", "-f")
    settle_seconds: float = Field(0.005, ge=0, le=5)
    min_interval_seconds: float = Field(1.0, ge=0, le=600)
    metrics_port: int = Field(9153, ge=0, le=65535)
    # where /metrics, /healthz and /readyz listen; by default every address of the family the
    # kubelet's probes come in (0.0.0.0, or :: in an IPv6-only cluster); "127.0.0.1" keeps
    # them off the pod network
    metrics_bind: str | None = None
    # where the API is when not in a cluster (tests, benchmarks); in-cluster config otherwise
    api_server: str | None = None
    watch_timeout_seconds: int = Field(300, ge=1, le=3600)
    status_interval_seconds: float = Field(300, gt=0)
    # the kernel's IPVS table (in the pod's netns), read to keep every LB's order the same
    ipvs_table: Path = Path("/proc/net/ip_vs")
    order_interval_seconds: float = Field(2.0, gt=0, le=600)
    # how often the hook writes its heartbeat beside keepalived.conf (hook.json)
    beat_interval_seconds: float = Field(1.0, gt=0, le=60)
    # how long keepalived may take to apply each of a reorder's two reloads
    order_timeout_seconds: float = Field(15.0, gt=0, le=600)

    @classmethod
    def from_environment(cls, env: Mapping[str, str], **given: Any) -> HookSettings:
        found: dict[str, Any] = {}
        for name, field in cls.model_fields.items():
            raw = env.get(ENV_PREFIX + name.upper())
            if raw is None:
                continue
            try:
                found[name] = json.loads(raw) if "tuple" in str(field.annotation) else raw
            except ValueError as error:
                raise LbgenError(f"{ENV_PREFIX}{name.upper()}: not a JSON list: {raw}") from error
        try:
            return cls(**{**found, **given})
        except ValidationError as error:
            problems = "; ".join(
                f"{ENV_PREFIX}{str(e['loc'][0]).upper()}: {e['msg']}" for e in error.errors()
            )
            raise LbgenError(f"hook settings: {problems}") from error
