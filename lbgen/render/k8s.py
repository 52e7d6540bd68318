"""Kubernetes manifests for the LB side, built as data (plain dicts) and serialised; never
templated. Everything lands in cluster/, the folder Argo CD or Flux syncs, plus gitops/."""

from __future__ import annotations

from typing import Any

from lbgen.plan import KubePlan, Plan, ServicePlan
from lbgen.render.text import header
from lbgen.render.yamldoc import dump_yaml

Manifest = dict[str, Any]

LB_CLASS = "lbgen.io/ecmp"
LB_ACCOUNT = "lbgen-lb"
AGENT = "lbgen-node-agent"
CONFIG_DIR = "/etc/lbgen"
RUN_DIR = "/run/lbgen"
NON_ROOT = 65532
HOOK_PORT = 9153
# namespaced sysctls IPVS NAT needs in the LB pod's own netns; the kubelet must allow them
# (allowedUnsafeSysctls: net.ipv4.ip_forward, net.ipv4.vs.*) since they are not "safe" ones
POD_SYSCTLS = (
    ("net.ipv4.ip_forward", "1"),
    ("net.ipv4.vs.conn_reuse_mode", "0"),  # else SYNs reusing a TIME_WAIT port are dropped
    ("net.ipv4.vs.conntrack", "1"),  # netfilter sees IPVS flows, so they can be masqueraded
    ("net.ipv4.vs.expire_nodest_conn", "1"),  # flows to a removed backend fail fast
)


def lb_name(service: ServicePlan) -> str:
    return f"lb-{service.name}"


def _labels(plan_fabric: str, component: str, service: str | None = None) -> dict[str, str]:
    labels = {
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/managed-by": "lbgen",
        "app.kubernetes.io/part-of": "lbgen",
        "lbgen.io/fabric": plan_fabric,
    }
    if service is not None:
        labels["lbgen.io/service"] = service
    return labels


def _selector(fabric: str, service: str) -> dict[str, str]:
    return {"lbgen.io/fabric": fabric, "lbgen.io/service": service}


def _lbgen(*args: str) -> list[str]:
    return ["lbgen", *args]


def _env_downward() -> list[dict[str, Any]]:
    return [
        {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
        {"name": "NODE_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}},
        {"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
    ]


def _security(*, add: tuple[str, ...], root: bool) -> dict[str, Any]:
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
        context["runAsUser"] = NON_ROOT
        context["runAsNonRoot"] = True
    return context


def _resources(kube: KubePlan) -> dict[str, Any]:
    return {
        "requests": {"cpu": kube.cpu, "memory": kube.memory},
        "limits": {"memory": kube.memory},
    }


def _probe(command: list[str], period: int, failures: int) -> dict[str, Any]:
    return {
        "exec": {"command": command},
        "periodSeconds": period,
        "timeoutSeconds": 2,
        "failureThreshold": failures,
    }


def namespace(plan: Plan) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": plan.kube.namespace,
            "labels": {
                **_labels(plan.fabric, "namespace"),
                # LB pods add NET_ADMIN and unsafe sysctls; the node agent uses the host network
                "pod-security.kubernetes.io/enforce": "privileged",
            },
        },
    }


def rbac(plan: Plan) -> list[Manifest]:
    """Least privilege: read the backends' EndpointSlices and Services, patch only the status of
    the LoadBalancer Services lbgen owns; the node agent reads pods in its own namespace."""
    ns = plan.kube.namespace
    docs: list[Manifest] = [
        _account(plan, LB_ACCOUNT, "load-balancer"),
        _account(plan, AGENT, "node-agent"),
    ]
    readers = sorted({s.backend.namespace for s in plan.services})
    owners: dict[str, list[str]] = {}
    for service in plan.services:
        owners.setdefault(service.namespace, []).append(service.name)
    for target in sorted(set(readers) | set(owners)):
        rules: list[dict[str, Any]] = []
        if target in readers:
            rules.append(
                {
                    "apiGroups": ["discovery.k8s.io"],
                    "resources": ["endpointslices"],
                    "verbs": ["get", "list", "watch"],
                }
            )
            rules.append(
                {
                    "apiGroups": [""],
                    "resources": ["services"],
                    "verbs": ["get", "list", "watch"],
                }
            )
        if target in owners:
            rules.append(
                {
                    "apiGroups": [""],
                    "resources": ["services/status"],
                    "resourceNames": sorted(owners[target]),
                    "verbs": ["get", "patch"],
                }
            )
        docs += _role_and_binding(plan, f"lbgen-lb-{plan.fabric}", target, rules, LB_ACCOUNT)
    docs += _role_and_binding(
        plan,
        AGENT,
        ns,
        [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}],
        AGENT,
    )
    return docs


def _account(plan: Plan, name: str, component: str) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {
            "name": name,
            "namespace": plan.kube.namespace,
            "labels": _labels(plan.fabric, component),
        },
    }


def _role_and_binding(
    plan: Plan, name: str, target: str, rules: list[dict[str, Any]], account: str
) -> list[Manifest]:
    meta = {"name": name, "namespace": target, "labels": _labels(plan.fabric, "rbac")}
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
            ],
        },
    ]


def deployment(plan: Plan, service: ServicePlan) -> Manifest:
    kube = service.kube
    selector = _selector(plan.fabric, service.name)
    config = ["--config", f"{CONFIG_DIR}/lb.json"]
    mounts = [
        {"name": "config", "mountPath": CONFIG_DIR, "readOnly": True},
        {"name": "run", "mountPath": RUN_DIR},
    ]
    common = {
        "image": kube.image,
        "imagePullPolicy": kube.image_pull_policy,
        "resources": _resources(kube),
        "volumeMounts": mounts,
    }
    setup = {
        "name": "setup",
        **common,
        "command": _lbgen("pod", "setup", *config),
        "env": _env_downward(),
        # route the prefix as local and masquerade IPVS traffic: netfilter and routes only
        "securityContext": _security(add=("NET_ADMIN",), root=True),
    }
    keepalived = {
        "name": "keepalived",
        **common,
        "command": [
            "keepalived",
            "--dont-fork",
            "--log-console",
            "--log-detail",
            "--check",
            f"--use-file={RUN_DIR}/keepalived.conf",
            f"--pid={RUN_DIR}/keepalived.pid",
            f"--checkers_pid={RUN_DIR}/checkers.pid",
        ],
        "livenessProbe": _probe(
            _lbgen("pod", "check", "alive", "--pidfile", f"{RUN_DIR}/keepalived.pid"), 10, 3
        ),
        # keep IPVS serving open flows while the route is withdrawn and drains
        "lifecycle": {
            "preStop": {
                "exec": {
                    "command": _lbgen("pod", "drain", "--seconds", str(kube.drain_seconds)),
                }
            }
        },
        "securityContext": _security(add=("NET_ADMIN",), root=True),
    }
    exabgp = {
        "name": "exabgp",
        **common,
        "command": _lbgen("pod", "exabgp", *config),
        "env": _env_downward(),
        "readinessProbe": _probe(_lbgen("pod", "check", "ready", *config), 2, 1),
        "livenessProbe": _probe(
            _lbgen("pod", "check", "alive", "--pidfile", f"{RUN_DIR}/exabgp.pid"), 10, 3
        ),
        # withdraw the route first (~0.1 s, the session closes), so new flows go elsewhere
        "lifecycle": {
            "preStop": {
                "exec": {
                    "command": _lbgen("pod", "withdraw", "--pidfile", f"{RUN_DIR}/exabgp.pid"),
                }
            }
        },
        "securityContext": _security(add=(), root=False),
    }
    hook = {
        "name": "hook",
        **common,
        "command": _lbgen("hook", *config),
        "ports": [{"name": "metrics", "containerPort": HOOK_PORT, "protocol": "TCP"}],
        "readinessProbe": {
            "httpGet": {"path": "/readyz", "port": "metrics"},
            "periodSeconds": 2,
            "failureThreshold": 1,
        },
        "livenessProbe": {
            "httpGet": {"path": "/healthz", "port": "metrics"},
            "periodSeconds": 10,
            "failureThreshold": 3,
        },
        # root like keepalived, whose config it replaces and which it SIGHUPs: no capability
        "securityContext": _security(add=(), root=True),
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": lb_name(service),
            "namespace": kube.namespace,
            "labels": _labels(plan.fabric, "load-balancer", service.name),
        },
        "spec": {
            "replicas": service.replicas,
            "revisionHistoryLimit": 3,
            "selector": {"matchLabels": selector},
            # no surge: each LB needs a node of its own, and every eligible one may be taken
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1},
            },
            "template": {
                "metadata": {
                    "labels": _labels(plan.fabric, "load-balancer", service.name),
                    "annotations": {
                        # the node agent routes this prefix to the pod on its node
                        "lbgen.io/prefix": str(service.prefix),
                        "prometheus.io/scrape": "true",
                        "prometheus.io/port": str(HOOK_PORT),
                    },
                },
                "spec": {
                    "serviceAccountName": LB_ACCOUNT,
                    # the preStop hooks signal exabgp, and lbgen hook reloads keepalived
                    "shareProcessNamespace": True,
                    "terminationGracePeriodSeconds": kube.drain_seconds + 15,
                    "affinity": {
                        "nodeAffinity": {
                            "requiredDuringSchedulingIgnoredDuringExecution": {
                                "nodeSelectorTerms": [
                                    {
                                        "matchFields": [
                                            {
                                                "key": "metadata.name",
                                                "operator": "In",
                                                "values": list(service.eligible_nodes),
                                            }
                                        ]
                                    }
                                ],
                            }
                        },
                        "podAntiAffinity": {
                            "requiredDuringSchedulingIgnoredDuringExecution": [
                                {
                                    "labelSelector": {"matchLabels": selector},
                                    "topologyKey": "kubernetes.io/hostname",
                                }
                            ],
                        },
                    },
                    "securityContext": {
                        "fsGroup": NON_ROOT,
                        "seccompProfile": {"type": "RuntimeDefault"},
                        "sysctls": [{"name": k, "value": v} for k, v in POD_SYSCTLS],
                    },
                    "initContainers": [setup],
                    "containers": [keepalived, exabgp, hook],
                    "volumes": [
                        {"name": "config", "configMap": {"name": lb_name(service)}},
                        {"name": "run", "emptyDir": {"medium": "Memory", "sizeLimit": "16Mi"}},
                    ],
                },
            },
        },
    }


def disruption_budget(plan: Plan, service: ServicePlan) -> Manifest:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {
            "name": lb_name(service),
            "namespace": service.kube.namespace,
            "labels": _labels(plan.fabric, "load-balancer", service.name),
        },
        "spec": {
            "maxUnavailable": 1,
            "selector": {"matchLabels": _selector(plan.fabric, service.name)},
        },
    }


def load_balancer_service(plan: Plan, service: ServicePlan) -> Manifest:
    """What `kubectl get svc` shows; no selector: the LB pods, not kube-proxy, carry traffic."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": service.name,
            "namespace": service.namespace,
            "labels": _labels(plan.fabric, "load-balancer", service.name),
            "annotations": {
                "lbgen.io/vips": ",".join(str(v) for v in service.vips),
                "lbgen.io/prefix": str(service.prefix),
                "lbgen.io/backend": f"{service.backend.namespace}/{service.backend.service}",
            },
        },
        "spec": {
            "type": "LoadBalancer",
            "loadBalancerClass": LB_CLASS,
            "allocateLoadBalancerNodePorts": False,
            "ipFamilyPolicy": "SingleStack",
            "ipFamilies": ["IPv4"],
            "ports": [
                {"name": p.name, "port": p.port, "protocol": p.protocol, "targetPort": p.port}
                for p in service.ports
            ],
        },
    }


def node_agent(plan: Plan) -> Manifest:
    """Routes each LB pod's prefix to the pod on its node (paper Fig. 7b (2)), and removes the
    route when the pod goes: host network and NET_ADMIN, nothing more."""
    nodes = sorted({n for s in plan.services for n in s.eligible_nodes})
    labels = _labels(plan.fabric, "node-agent")
    pod_spec: dict[str, Any] = {
        "serviceAccountName": AGENT,
        "hostNetwork": True,
        "dnsPolicy": "ClusterFirstWithHostNet",
        "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [
            {
                "name": "agent",
                "image": plan.kube.image,
                "imagePullPolicy": plan.kube.image_pull_policy,
                "command": _lbgen(
                    "node-agent", "--namespace", plan.kube.namespace, "--fabric", plan.fabric
                ),
                "env": [
                    {"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}
                ],
                "resources": _resources(plan.kube),
                "securityContext": _security(add=("NET_ADMIN",), root=True),
            }
        ],
        "tolerations": [{"operator": "Exists", "effect": "NoSchedule"}],
    }
    if nodes:
        pod_spec["affinity"] = {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {
                            "matchFields": [
                                {"key": "metadata.name", "operator": "In", "values": nodes}
                            ]
                        }
                    ],
                }
            }
        }
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": AGENT, "namespace": plan.kube.namespace, "labels": labels},
        "spec": {
            "selector": {
                "matchLabels": {
                    "lbgen.io/fabric": plan.fabric,
                    "app.kubernetes.io/component": "node-agent",
                }
            },
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
            "template": {"metadata": {"labels": labels}, "spec": pod_spec},
        },
    }


def kustomization(plan: Plan) -> Manifest:
    resources = ["namespace.yaml", "rbac.yaml", "node-agent.yaml"]
    for service in plan.services:
        base = f"services/{service.name}"
        resources += [f"{base}/deployment.yaml", f"{base}/pdb.yaml", f"{base}/service.yaml"]
    return {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": resources,
        # a changed daemon config changes the hash suffix, and so rolls the LB pods
        "configMapGenerator": [
            {
                "name": lb_name(service),
                "namespace": plan.kube.namespace,
                "files": [
                    f"lb.json=services/{service.name}/lb.json",
                    f"keepalived.conf=services/{service.name}/keepalived.conf",
                ],
                "options": {"labels": _labels(plan.fabric, "load-balancer", service.name)},
            }
            for service in plan.services
        ],
    }


def argocd_application(plan: Plan) -> Manifest:
    assert plan.gitops is not None
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": f"lbgen-{plan.fabric}", "namespace": plan.gitops.argocd_namespace},
        "spec": {
            "project": "default",
            "source": {
                "repoURL": plan.gitops.repo_url,
                "targetRevision": plan.gitops.revision,
                "path": plan.gitops.path,
            },
            "destination": {"server": "https://kubernetes.default.svc"},
            "syncPolicy": {
                "automated": {"prune": True, "selfHeal": True},
                "syncOptions": ["ServerSideApply=true"],
            },
        },
    }


def flux(plan: Plan) -> list[Manifest]:
    assert plan.gitops is not None
    name = f"lbgen-{plan.fabric}"
    ns = plan.gitops.flux_namespace
    return [
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": name, "namespace": ns},
            "spec": {
                "interval": "1m",
                "url": plan.gitops.repo_url,
                "ref": _ref(plan.gitops.revision),
            },
        },
        {
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "metadata": {"name": name, "namespace": ns},
            "spec": {
                "interval": "5m",
                "path": f"./{plan.gitops.path}",
                "prune": True,
                "wait": True,
                "sourceRef": {"kind": "GitRepository", "name": name},
            },
        },
    ]


def _ref(revision: str) -> dict[str, str]:
    """A full ref or a commit as such; anything else is taken as a branch name."""
    if revision.startswith("refs/"):
        return {"name": revision}
    if len(revision) == 40 and all(c in "0123456789abcdef" for c in revision):
        return {"commit": revision}
    return {"branch": revision}


def dump_manifests(source: str, docs: list[Manifest]) -> str:
    head = header(source, "#")
    return f"{head}\n" + "---\n".join(dump_yaml(doc) for doc in docs)
