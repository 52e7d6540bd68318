"""Kubernetes manifests for the LB side, built as data and serialised; never templated.
`lb` holds one service's objects (its Deployment, one function per container), `cluster` the
fabric-wide ones, `gitops` what points Argo CD and Flux at cluster/."""

from lbgen.render.k8s.cluster import namespace, node_agent, rbac, service_rbac
from lbgen.render.k8s.common import dump_manifests, lb_name
from lbgen.render.k8s.gitops import argocd_applications, flux
from lbgen.render.k8s.kustomize import (
    FABRIC_DIR,
    SERVICES_DIR,
    fabric_kustomization,
    needs_nodes,
    root_kustomization,
    service_kustomization,
)
from lbgen.render.k8s.lb import (
    deployment,
    disruption_budget,
    load_balancer_service,
    network_policy,
)
from lbgen.render.k8s.monitoring import pod_monitor, prometheus_rule

__all__ = [
    "FABRIC_DIR",
    "SERVICES_DIR",
    "argocd_applications",
    "deployment",
    "disruption_budget",
    "dump_manifests",
    "fabric_kustomization",
    "flux",
    "lb_name",
    "load_balancer_service",
    "namespace",
    "needs_nodes",
    "network_policy",
    "node_agent",
    "pod_monitor",
    "prometheus_rule",
    "rbac",
    "root_kustomization",
    "service_kustomization",
    "service_rbac",
]
