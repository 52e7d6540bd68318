"""The pod's inputs: its share of the plan (lb.json) and the downward-API facts (env)."""

from __future__ import annotations

from collections.abc import Mapping
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from lbgen.errors import LbgenError
from lbgen.plan import PodConfig
from lbgen.runtime.config import read_config


class PodFacts(BaseModel):
    """Known only when the pod starts: status.podIP, status.hostIP and spec.nodeName, in the
    family of the cluster's BGP sessions (IPv4, or IPv6 in an IPv6-only cluster)."""

    model_config = ConfigDict(frozen=True)

    pod_ip: IPv4Address | IPv6Address
    node_ip: IPv4Address | IPv6Address
    node: str = ""


def read_pod_config(path: Path) -> PodConfig:
    return read_config(path, PodConfig, "LB config")


def pod_facts(env: Mapping[str, str], version: int = 4) -> PodFacts:
    """`version`: the family of the sessions (ServicePlan.session_version)."""
    wrong = LbgenError(
        f"POD_IP and NODE_IP must hold the pod's and node's IPv{version} addresses "
        "(the downward API's status.podIP and status.hostIP)"
    )
    try:
        facts = PodFacts(
            pod_ip=env.get("POD_IP", ""),
            node_ip=env.get("NODE_IP", ""),
            node=env.get("NODE_NAME", ""),
        )
    except ValidationError as error:
        raise wrong from error
    if facts.pod_ip.version != version or facts.node_ip.version != version:
        raise wrong
    return facts
