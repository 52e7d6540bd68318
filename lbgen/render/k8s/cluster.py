"""Fabric-wide objects: the namespace, RBAC, the node agent's DaemonSet, the kustomization."""

from __future__ import annotations

from typing import Any

from lbgen.contract import (
    AGENT_CONFIG,
    AGENT_PORT,
    CONFIG_DIR,
    NODE_AGENT,
)
from lbgen.plan import Plan, ServicePlan
from lbgen.render.k8s.common import (
    AGENT,
    Manifest,
    agent_selector,
    http_probe,
    labels,
    lb_account,
    lbgen,
    on_nodes,
    resources,
    security,
)


def namespace(plan: Plan) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": plan.kube.namespace,
            "labels": {
                **labels(plan.fabric, "namespace"),
                # LB pods add NET_ADMIN and unsafe sysctls; the node agent uses the host network
                "pod-security.kubernetes.io/enforce": "privileged",
                # ... and what baseline would refuse is still said on every apply and audited
                "pod-security.kubernetes.io/warn": "baseline",
                "pod-security.kubernetes.io/audit": "baseline",
            },
        },
    }


def rbac(plan: Plan) -> list[Manifest]:
    """Least privilege: each service's LB pods have an account of their own (service_rbac),
    which reads the backend's EndpointSlices (here: a Role per backend namespace, bound to the
    accounts reading there); the node agent reads pods in its own namespace."""
    readers: dict[str, list[str]] = {}
    for service in plan.services:
        readers.setdefault(service.backend.namespace, []).append(lb_account(service))
    read = [
        {
            "apiGroups": ["discovery.k8s.io"],
            "resources": ["endpointslices"],
            "verbs": ["get", "list", "watch"],
        },
    ]
    docs = [_account(plan, AGENT, "node-agent")]
    for target, accounts in sorted(readers.items()):
        docs += _role_and_binding(plan, f"lbgen-lb-{plan.fabric}-read", target, read, accounts)
    docs += _role_and_binding(
        plan,
        AGENT,
        plan.kube.namespace,
        [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}],
        [AGENT],
    )
    return docs


def service_rbac(plan: Plan, service: ServicePlan) -> list[Manifest]:
    """A service's LB account, which may patch the status of that one LoadBalancer Service (a
    stolen token sets no other Service's ingress IP): in the service's folder, so a thousand
    services are not one kustomize build."""
    status = [
        {
            "apiGroups": [""],
            "resources": ["services/status"],
            "resourceNames": [service.name],
            "verbs": ["get", "patch"],
        }
    ]
    name = f"lbgen-{plan.fabric}-{service.name}-status"
    return [
        _account(plan, lb_account(service), "load-balancer"),
        *_role_and_binding(plan, name, service.namespace, status, [lb_account(service)]),
    ]


def _account(plan: Plan, name: str, component: str) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {
            "name": name,
            "namespace": plan.kube.namespace,
            "labels": labels(plan.fabric, component),
        },
    }


def _role_and_binding(
    plan: Plan, name: str, target: str, rules: list[dict[str, Any]], accounts: list[str]
) -> list[Manifest]:
    meta = {"name": name, "namespace": target, "labels": labels(plan.fabric, "rbac")}
    return [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": meta,
            "rules": rules,
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": meta,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
            "subjects": [
                {"kind": "ServiceAccount", "name": account, "namespace": plan.kube.namespace}
                for account in accounts
            ],
        },
    ]


def node_agent(plan: Plan) -> Manifest:
    """Routes each LB pod's prefix to the pod on its node (paper Fig. 7b (2)), and removes the
    route when the pod goes: host network and NET_ADMIN, nothing more."""
    nodes = list(plan.lb_nodes)
    agent_labels = labels(plan.fabric, "node-agent")
    pod_spec: dict[str, Any] = {
        "serviceAccountName": AGENT,
        "hostNetwork": True,
        "dnsPolicy": "ClusterFirstWithHostNet",
        "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [
            {
                "name": NODE_AGENT,
                "image": plan.kube.image,
                "imagePullPolicy": plan.kube.image_pull_policy,
                "command": lbgen("node-agent", "--config", str(AGENT_CONFIG)),
                "env": [
                    {
                        "name": "NODE_NAME",
                        "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}},
                    },
                    {"name": "NODE_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}},
                ],
                "ports": [{"name": "metrics", "containerPort": AGENT_PORT, "protocol": "TCP"}],
                "livenessProbe": http_probe("/healthz", 10, 3),
                "readinessProbe": http_probe("/readyz", 5, 1),
                "resources": resources(plan.kube, NODE_AGENT),
                "securityContext": security(add=("NET_ADMIN",), root=True),
                "volumeMounts": [
                    {"name": "config", "mountPath": str(CONFIG_DIR), "readOnly": True}
                ],
            }
        ],
        "volumes": [{"name": "config", "configMap": {"name": AGENT}}],
        "tolerations": [{"operator": "Exists", "effect": "NoSchedule"}],
    }
    if nodes:
        pod_spec["affinity"] = {"nodeAffinity": on_nodes(nodes)}
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": AGENT, "namespace": plan.kube.namespace, "labels": agent_labels},
        "spec": {
            "selector": {"matchLabels": agent_selector(plan.fabric)},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
            "template": {"metadata": {"labels": agent_labels}, "spec": pod_spec},
        },
    }
