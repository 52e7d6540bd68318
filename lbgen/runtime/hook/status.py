"""The LoadBalancer Service's status: its VIPs, written by every LB pod of the service.

Every LB writes the same content, a pure function of the spec, so no leader election is needed:
the writes are idempotent and the first one wins; each pod reads first and writes only when the
status differs. ipMode Proxy tells kube-proxy not to capture the VIPs on nodes itself
(Kubernetes 1.30+), so traffic reaches the LB pods the ECMP route chose."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lbgen.plan import ServicePlan


def wanted_status(service: ServicePlan) -> dict[str, Any]:
    return {
        "loadBalancer": {
            "ingress": [{"ip": str(vip), "ipMode": "Proxy"} for vip in service.all_vips]
        }
    }


def needs_patch(current: dict[str, Any] | None, service: ServicePlan) -> bool:
    ingress = ((current or {}).get("loadBalancer") or {}).get("ingress") or []
    have = [{"ip": i.get("ip"), "ipMode": i.get("ipMode")} for i in ingress]
    wanted: list[dict[str, Any]] = wanted_status(service)["loadBalancer"]["ingress"]
    return have != wanted


def publish(
    service: ServicePlan,
    read: Callable[[str, str], dict[str, Any]],
    patch: Callable[[str, str, dict[str, Any]], object],
) -> bool:
    """Patch the Service's status when it differs; True when a patch was sent."""
    current = read(service.name, service.namespace).get("status")
    if not needs_patch(current, service):
        return False
    patch(service.name, service.namespace, {"status": wanted_status(service)})
    return True
