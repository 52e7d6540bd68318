"""What kube-prometheus users expect beside the LB pods (spec.kubernetes.monitoring): a
PodMonitor that scrapes every LB pod's metrics port, and a PrometheusRule whose alerts say what
an operator acts on — an LB that does not announce, a BGP session down, a pool the API cannot
refresh, an announcer or a pod that went silent."""

from __future__ import annotations

from typing import Any

from lbgen.plan import Plan
from lbgen.render.k8s.common import Manifest, labels

MONITORING_API = "monitoring.coreos.com/v1"


def _metadata(plan: Plan) -> dict[str, Any]:
    assert plan.monitoring is not None
    return {
        "name": f"lbgen-{plan.fabric}",
        "namespace": plan.kube.namespace,
        "labels": {**labels(plan.fabric, "monitoring"), **dict(plan.monitoring.labels)},
    }


def pod_monitor(plan: Plan) -> Manifest:
    return {
        "apiVersion": MONITORING_API,
        "kind": "PodMonitor",
        "metadata": _metadata(plan),
        "spec": {
            "selector": {
                "matchLabels": {
                    "lbgen.io/fabric": plan.fabric,
                    "app.kubernetes.io/component": "load-balancer",
                }
            },
            "podMetricsEndpoints": [{"port": "metrics", "path": "/metrics", "interval": "15s"}],
        },
    }


def _alert(name: str, expr: str, wait: str, severity: str, summary: str) -> dict[str, Any]:
    return {
        "alert": name,
        "expr": expr,
        "for": wait,
        "labels": {"severity": severity},
        "annotations": {"summary": summary},
    }


def prometheus_rule(plan: Plan) -> Manifest:
    pods = f'namespace="{plan.kube.namespace}", pod=~"lb-.*"'
    job = f"{plan.kube.namespace}/lbgen-{plan.fabric}"
    return {
        "apiVersion": MONITORING_API,
        "kind": "PrometheusRule",
        "metadata": _metadata(plan),
        "spec": {
            "groups": [
                {
                    "name": f"lbgen-{plan.fabric}",
                    "rules": [
                        _alert(
                            "LbgenLoadBalancerNotAnnouncing",
                            f"lbgen_announced{{{pods}}} == 0",
                            "2m",
                            "warning",
                            "LB pod {{ $labels.pod }} does not announce its {{ $labels.family }} "
                            "prefix: its datapath cannot serve, or its backend has no ready "
                            "endpoint (see its announce status)",
                        ),
                        _alert(
                            "LbgenBgpSessionDown",
                            f"lbgen_bgp_session_up{{{pods}}} == 0",
                            "2m",
                            "warning",
                            "LB pod {{ $labels.pod }} has no BGP session with reflector "
                            "{{ $labels.reflector }}",
                        ),
                        _alert(
                            "LbgenPoolStale",
                            f"lbgen_hook_pool_stale{{{pods}}} == 1",
                            "5m",
                            "warning",
                            "LB pod {{ $labels.pod }} cannot read its backend's EndpointSlices: "
                            "it serves the last pool it listed",
                        ),
                        _alert(
                            "LbgenAnnouncerSilent",
                            f"lbgen_announcer_status_age_seconds{{{pods}}} > 60",
                            "2m",
                            "critical",
                            "the announcer of LB pod {{ $labels.pod }} has not checked for a "
                            "minute: its announcements no longer follow its datapath",
                        ),
                        _alert(
                            "LbgenMetricsDown",
                            f'up{{job="{job}"}} == 0',
                            "5m",
                            "warning",
                            "LB pod {{ $labels.pod }}'s metrics do not answer: its hook is "
                            "frozen or dead, so it has withdrawn its routes",
                        ),
                    ],
                }
            ]
        },
    }
