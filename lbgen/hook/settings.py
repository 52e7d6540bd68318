"""The hook's settings: flags override environment variables (LBGEN_HOOK_*), which override
the defaults that match the generated pod spec."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from lbgen.contract import KEEPALIVED_CONF, KEEPALIVED_PID, LB_CONFIG


class HookSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LBGEN_HOOK_", frozen=True)

    config: Path = Path(LB_CONFIG)
    keepalived_conf: Path = Path(KEEPALIVED_CONF)
    keepalived_pid: Path = Path(KEEPALIVED_PID)
    check_command: tuple[str, ...] = ("keepalived", "-t", "-e", "-f")
    settle_seconds: float = Field(0.005, ge=0, le=5)
    min_interval_seconds: float = Field(1.0, ge=0, le=600)
    metrics_port: int = Field(9153, ge=0, le=65535)
    # where the API is when not in a cluster (tests, benchmarks); in-cluster config otherwise
    api_server: str | None = None
    watch_timeout_seconds: int = Field(300, ge=1, le=3600)
    status_interval_seconds: float = Field(300, gt=0)
