"""One service's objects: its LB Deployment (its containers: containers.py), its disruption
budget, NetworkPolicy, and the LoadBalancer Service users see."""

from __future__ import annotations

from typing import Any

from lbgen.contract import (
    HOOK_PORT,
    NON_ROOT_UID,
)
from lbgen.plan import Plan, ServicePlan
from lbgen.render.k8s.common import (
    LB_CLASS,
    NODES_CM,
    Manifest,
    agent_selector,
    labels,
    lb_account,
    lb_name,
    on_nodes,
    selector,
)
from lbgen.render.k8s.containers import (
    API_ACCESS,
    BGP_PASSWORDS,
    NODES,
    exabgp_container,
    hook_container,
    keepalived_container,
    setup_container,
)


def _password_volume(service: ServicePlan) -> dict[str, Any]:
    """Each reflector's password as a file named after it, for exabgp's container alone;
    readable by the pod's group (fsGroup), the container's user being non-root."""
    return {
        "name": BGP_PASSWORDS,
        "projected": {
            "defaultMode": 0o440,
            "sources": [
                {"secret": {"name": s.secret, "items": [{"key": s.key, "path": s.reflector}]}}
                for s in service.bgp_secrets
            ],
        },
    }


def _token_volume() -> dict[str, Any]:
    """What automounting would give every container, projected for the hook's alone: a
    short-lived token the kubelet rotates, the cluster's CA, the namespace."""
    return {
        "name": API_ACCESS,
        "projected": {
            "sources": [
                {"serviceAccountToken": {"path": "token", "expirationSeconds": 3607}},
                {
                    "configMap": {
                        "name": "kube-root-ca.crt",
                        "items": [{"key": "ca.crt", "path": "ca.crt"}],
                    }
                },
                {
                    "downwardAPI": {
                        "items": [
                            {"path": "namespace", "fieldRef": {"fieldPath": "metadata.namespace"}}
                        ]
                    }
                },
            ]
        },
    }


def network_policy(plan: Plan, service: ServicePlan) -> Manifest:
    """Into the LB pods: the service's ports from anywhere (clients reach the VIPs through
    them), the hook's metrics port only from the metrics namespace; nothing else."""
    ports = [{"port": p.port, "protocol": p.protocol} for p in service.ports]
    scrapers = {"kubernetes.io/metadata.name": service.kube.metrics_namespace}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _lb_metadata(plan, service),
        "spec": {
            "podSelector": {"matchLabels": selector(plan.fabric, service.name)},
            "policyTypes": ["Ingress"],
            "ingress": [
                {"ports": ports},
                {
                    "from": [{"namespaceSelector": {"matchLabels": scrapers}}],
                    "ports": [{"port": HOOK_PORT, "protocol": "TCP"}],
                },
            ],
        },
    }


def _pod_spec(plan: Plan, service: ServicePlan) -> dict[str, Any]:
    return {
        "serviceAccountName": lb_account(service),
        # only the hook talks to the API: only its container gets the token (API_ACCESS)
        "automountServiceAccountToken": False,
        # the preStop hooks signal exabgp, and lbgen hook reloads keepalived
        "shareProcessNamespace": True,
        "terminationGracePeriodSeconds": service.kube.drain_seconds + 15,
        "affinity": {
            # the spec's own choice of nodes for this service: by name, by label, or both
            **(
                {"nodeAffinity": affinity}
                if (affinity := on_nodes(service.node_names, service.node_selector))
                else {}
            ),
            # only beside the node agent, which runs on the nodes that may run LBs (its
            # DaemonSet names them): one list for the fabric, not one per service
            "podAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "labelSelector": {"matchLabels": agent_selector(plan.fabric)},
                        "topologyKey": "kubernetes.io/hostname",
                    }
                ],
            },
            "podAntiAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "labelSelector": {"matchLabels": selector(plan.fabric, service.name)},
                        "topologyKey": "kubernetes.io/hostname",
                    }
                ],
            },
        },
        "securityContext": {
            "fsGroup": NON_ROOT_UID,
            "seccompProfile": {"type": "RuntimeDefault"},
            "sysctls": [{"name": k, "value": v} for k, v in service.pod_sysctls],
        },
        "initContainers": [setup_container(service)],
        "containers": [
            keepalived_container(service),
            exabgp_container(service),
            hook_container(service),
        ],
        "volumes": [
            {"name": "config", "configMap": {"name": lb_name(service)}},
            {"name": "run", "emptyDir": {"medium": "Memory", "sizeLimit": "16Mi"}},
            _token_volume(),
            *([_password_volume(service)] if service.bgp_secrets else []),
            *([{"name": NODES, "configMap": {"name": NODES_CM}}] if service.prefix6 else []),
        ],
    }


def _lb_metadata(plan: Plan, service: ServicePlan) -> dict[str, Any]:
    """The name, namespace and labels of a service's LB objects (Deployment, PDB, policy)."""
    return {
        "name": lb_name(service),
        "namespace": service.kube.namespace,
        "labels": labels(plan.fabric, "load-balancer", service.name),
    }


def deployment(plan: Plan, service: ServicePlan) -> Manifest:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _lb_metadata(plan, service),
        "spec": {
            "replicas": service.replicas,
            "revisionHistoryLimit": 3,
            "selector": {"matchLabels": selector(plan.fabric, service.name)},
            # no surge: each LB needs a node of its own, and every eligible one may be taken
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1},
            },
            "template": {
                "metadata": {
                    "labels": labels(plan.fabric, "load-balancer", service.name),
                    "annotations": {
                        # for people: the node agent takes the prefix from its plan, never here
                        **prefix_annotations(service),
                        "prometheus.io/scrape": "true",
                        "prometheus.io/port": str(HOOK_PORT),
                    },
                },
                "spec": _pod_spec(plan, service),
            },
        },
    }


def disruption_budget(plan: Plan, service: ServicePlan) -> Manifest:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _lb_metadata(plan, service),
        "spec": {
            "maxUnavailable": 1,
            "selector": {"matchLabels": selector(plan.fabric, service.name)},
        },
    }


def prefix_annotations(service: ServicePlan) -> dict[str, str]:
    return {f"lbgen.io/prefix{'6' if p.version == 6 else ''}": str(p) for p in service.prefixes}


def load_balancer_service(plan: Plan, service: ServicePlan) -> Manifest:
    """What `kubectl get svc` shows; no selector: the LB pods, not kube-proxy, carry traffic."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": service.name,
            "namespace": service.namespace,
            "labels": labels(plan.fabric, "load-balancer", service.name),
            "annotations": {
                "lbgen.io/vips": ",".join(str(v) for v in service.all_vips),
                **prefix_annotations(service),
                "lbgen.io/backend": f"{service.backend.namespace}/{service.backend.service}",
            },
        },
        "spec": {
            "type": "LoadBalancer",
            "loadBalancerClass": LB_CLASS,
            "allocateLoadBalancerNodePorts": False,
            # the Service's ClusterIP families (its ingress, the VIPs, is this status's)
            "ipFamilyPolicy": "RequireDualStack"
            if len(service.ip_families) == 2
            else "SingleStack",
            "ipFamilies": list(service.ip_families),
            "ports": [
                {"name": p.name, "port": p.port, "protocol": p.protocol, "targetPort": p.port}
                for p in service.ports
            ],
        },
    }
