"""What every manifest shares: labels, selectors, security contexts, probes, resources,
node affinity, and the YAML documents' header. Manifests are data, serialised, never templated."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lbgen.contract import NON_ROOT_UID
from lbgen.plan import KubePlan, ServicePlan
from lbgen.render.text import header
from lbgen.render.yamldoc import dump_yaml

Manifest = dict[str, Any]

LB_CLASS = "lbgen.io/ecmp"
AGENT = "lbgen-node-agent"
NODES_CM = "lbgen-nodes"  # nodes.json: no hash suffix, so a node change rolls no LB


def lb_name(service: ServicePlan) -> str:
    return f"lb-{service.name}"


def lb_account(service: ServicePlan) -> str:
    """Each service's LB pods have a ServiceAccount of their own."""
    return f"lbgen-lb-{service.name}"


def labels(fabric: str, component: str, service: str | None = None) -> dict[str, str]:
    found = {
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/managed-by": "lbgen",
        "app.kubernetes.io/part-of": "lbgen",
        "lbgen.io/fabric": fabric,
    }
    if service is not None:
        found["lbgen.io/service"] = service
    return found


def selector(fabric: str, service: str) -> dict[str, str]:
    return {"lbgen.io/fabric": fabric, "lbgen.io/service": service}


def agent_selector(fabric: str) -> dict[str, str]:
    """The node agent's pods (its DaemonSet's selector, and the LB pods' affinity to them)."""
    return {"lbgen.io/fabric": fabric, "app.kubernetes.io/component": "node-agent"}


def lbgen(*args: str) -> list[str]:
    return ["lbgen", *args]


def security(*, add: tuple[str, ...], root: bool) -> dict[str, Any]:
    context: dict[str, Any] = {
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"], **({"add": list(add)} if add else {})},
    }
    if root:
        context["runAsUser"] = 0
        context["runAsNonRoot"] = False
    else:
        context["runAsUser"] = NON_ROOT_UID
        context["runAsNonRoot"] = True
    return context


def resources(kube: KubePlan, container: str) -> dict[str, Any]:
    chosen = kube.resources_of(container)
    return {
        "requests": {"cpu": chosen.cpu, "memory": chosen.memory},
        "limits": {"memory": chosen.memory},
    }


def exec_probe(command: list[str], period: int, failures: int) -> dict[str, Any]:
    return {
        "exec": {"command": command},
        "periodSeconds": period,
        "timeoutSeconds": 2,
        "failureThreshold": failures,
    }


def http_probe(path: str, period: int, failures: int) -> dict[str, Any]:
    """A probe of the container's `metrics` port (its /healthz or /readyz)."""
    return {
        "httpGet": {"path": path, "port": "metrics"},
        "periodSeconds": period,
        "failureThreshold": failures,
    }


def on_nodes(
    names: Sequence[str] | None, labels: tuple[tuple[str, str], ...] = ()
) -> dict[str, Any] | None:
    """Required node affinity to the nodes named (matchFields on metadata.name) with these
    labels; None when it names none and asks for no label."""
    term: dict[str, Any] = {}
    if names is not None:
        term["matchFields"] = [{"key": "metadata.name", "operator": "In", "values": list(names)}]
    if labels:
        term["matchExpressions"] = [
            {"key": key, "operator": "In", "values": [value]} for key, value in labels
        ]
    if not term:
        return None
    return {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}}


def dump_manifests(source: str, docs: list[Manifest]) -> str:
    head = header(source, "#")
    return f"{head}\n" + "---\n".join(dump_yaml(doc) for doc in docs)
