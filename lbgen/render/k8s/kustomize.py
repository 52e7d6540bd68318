"""The kustomizations of cluster/: one for the fabric-wide objects (fabric/), one per service
(services/<name>/), and one at the top that takes them all in.

kustomize's time grows with the square of the resources in one build (4,000 ConfigMaps: 13.6 s,
1,000: 0.67 s; a 1,000-service cluster/ in one build: 177 s), past Argo CD's 90 s: so each
folder builds alone, and GitOps syncs them apart (lbgen.render.k8s.gitops). The top one is for
`kubectl apply -k` of a small fabric."""

from __future__ import annotations

from typing import Any

from lbgen.contract import (
    AGENT_CONFIG_NAME,
    KEEPALIVED_CONF_NAME,
    LB_CONFIG_NAME,
    NODES_CONFIG_NAME,
)
from lbgen.plan import Plan, ServicePlan
from lbgen.render.k8s.common import AGENT, NODES_CM, Manifest, labels, lb_name

FABRIC_DIR = "fabric"  # under cluster/: the namespace, RBAC, the node agent, monitoring
SERVICES_DIR = "services"  # under cluster/: a folder per service
SERVICE_FILES = (
    "rbac.yaml",
    "deployment.yaml",
    "pdb.yaml",
    "service.yaml",
    "networkpolicy.yaml",
)


def needs_nodes(plan: Plan) -> bool:
    """nodes.json is for the LB pods of IPv6 services (their next hop)."""
    return any(s.prefix6 is not None for s in plan.services)


def _kustomization(resources: list[str], generators: list[dict[str, Any]]) -> Manifest:
    found: Manifest = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": resources,
    }
    if generators:
        # a changed daemon config changes the hash suffix, and so rolls the pods reading it
        found["configMapGenerator"] = generators
    return found


def root_kustomization(plan: Plan) -> Manifest:
    return _kustomization([FABRIC_DIR, *(f"{SERVICES_DIR}/{s.name}" for s in plan.services)], [])


def fabric_kustomization(plan: Plan) -> Manifest:
    resources = ["namespace.yaml", "rbac.yaml", "node-agent.yaml"]
    if plan.monitoring is not None:
        resources.append("monitoring.yaml")
    generators: list[dict[str, Any]] = [
        {
            "name": AGENT,
            "namespace": plan.kube.namespace,
            "files": [f"{AGENT_CONFIG_NAME}={AGENT_CONFIG_NAME}"],
            "options": {"labels": labels(plan.fabric, "node-agent")},
        }
    ]
    if needs_nodes(plan):
        generators.append(
            {
                "name": NODES_CM,
                "namespace": plan.kube.namespace,
                "files": [f"{NODES_CONFIG_NAME}={NODES_CONFIG_NAME}"],
                # read when an LB pod starts: a node added rolls no LB
                "options": {"labels": labels(plan.fabric, "nodes"), "disableNameSuffixHash": True},
            }
        )
    return _kustomization(resources, generators)


def service_kustomization(plan: Plan, service: ServicePlan) -> Manifest:
    generator = {
        "name": lb_name(service),
        "namespace": plan.kube.namespace,
        "files": [f"{name}={name}" for name in (LB_CONFIG_NAME, KEEPALIVED_CONF_NAME)],
        "options": {"labels": labels(plan.fabric, "load-balancer", service.name)},
    }
    return _kustomization(list(SERVICE_FILES), [generator])
