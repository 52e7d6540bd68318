"""LB pods as their compiled Deployment describes them: each container's command, environment
and volume mounts, and the ConfigMap files kustomize would generate. Pure: from the tree."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML

from lbgen.render.k8s import FABRIC_DIR

# the downward API fields the LB pods use, and what stands for them in the testbed
DOWNWARD = {"status.podIP": "pod_ip", "status.hostIP": "node_ip", "spec.nodeName": "node"}


@dataclass(frozen=True)
class Container:
    name: str
    command: tuple[str, ...]
    env: tuple[tuple[str, str], ...]  # (name, literal value or "fieldRef:<path>")
    mounts: tuple[tuple[str, str], ...]  # (volume, mountPath)
    user: int = 0  # securityContext.runAsUser
    probes: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (readiness|liveness|preStop, command)


@dataclass(frozen=True)
class PodSpec:
    containers: tuple[Container, ...]
    configmaps: dict[str, dict[str, str]]  # volume → {file name: tree path}
    empty_dirs: tuple[str, ...]
    # projected ServiceAccount volumes: the testbed lays a stand-in token there (its API needs none)
    projected: tuple[str, ...] = ()
    # projected Secret volumes: volume → {file name: (Secret, key)}
    secrets: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)
    # the pod's namespaced sysctls (securityContext.sysctls), set before any container runs
    sysctls: tuple[tuple[str, str], ...] = ()
    # initContainers, by name: run to completion, in order, before the others start
    init: tuple[str, ...] = ()


def _load(text: str) -> Any:
    return YAML(typ="safe").load(text)


def pod_spec(tree: dict[str, str], service: str) -> PodSpec:
    """An LB pod, as its service's Deployment describes it."""
    return _template(tree, f"cluster/services/{service}/deployment.yaml")


def agent_pod_spec(tree: dict[str, str]) -> PodSpec:
    """The node agent's pod, as its DaemonSet describes it."""
    return _template(tree, f"cluster/{FABRIC_DIR}/node-agent.yaml")


def _container(c: dict[str, Any]) -> Container:
    return Container(
        name=c["name"],
        command=tuple(c["command"]),
        env=tuple(
            (
                e["name"],
                e["value"]
                if "value" in e
                else f"fieldRef:{e['valueFrom']['fieldRef']['fieldPath']}",
            )
            for e in c.get("env", [])
        ),
        mounts=tuple((m["name"], m["mountPath"]) for m in c.get("volumeMounts", [])),
        user=int((c.get("securityContext") or {}).get("runAsUser", 0)),
        probes=_exec_hooks(c),
    )


def _generated(tree: dict[str, str]) -> dict[str, dict[str, str]]:
    """Each ConfigMap a kustomization under cluster/ generates: its key → the file's tree path."""
    found = {}
    for path, text in tree.items():
        if path.startswith("cluster/") and path.endswith("/kustomization.yaml"):
            folder = path.removesuffix("kustomization.yaml")
            for generator in _load(text).get("configMapGenerator", []):
                files = (entry.split("=", 1) for entry in generator["files"])
                found[generator["name"]] = {key: folder + file for key, file in files}
    return found


def _template(tree: dict[str, str], manifest: str) -> PodSpec:
    """The pod template of a workload manifest, with the ConfigMaps kustomize generates."""
    spec = _load(tree[manifest])["spec"]["template"]["spec"]
    generated = _generated(tree)
    configmaps, empty, projected = {}, [], []
    secrets: dict[str, dict[str, tuple[str, str]]] = {}
    for volume in spec["volumes"]:
        if "configMap" in volume:
            files = generated[volume["configMap"]["name"]]
            configmaps[volume["name"]] = files
        elif "emptyDir" in volume:
            empty.append(volume["name"])
        elif "projected" in volume:
            sources = volume["projected"]["sources"]
            named = [s["secret"] for s in sources if "secret" in s]
            if named:
                secrets[volume["name"]] = {
                    item["path"]: (s["name"], item["key"]) for s in named for item in s["items"]
                }
            else:
                projected.append(volume["name"])
    init = spec.get("initContainers", [])
    containers = tuple(_container(c) for c in [*init, *spec["containers"]])
    sysctls = tuple(
        (s["name"], str(s["value"])) for s in (spec.get("securityContext") or {}).get("sysctls", [])
    )
    return PodSpec(
        containers,
        configmaps,
        tuple(empty),
        tuple(projected),
        secrets,
        sysctls,
        tuple(c["name"] for c in init),
    )


def _exec_hooks(container: dict[str, Any]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The commands the kubelet runs inside a container: exec probes and the preStop hook."""
    found = []
    for kind in ("readinessProbe", "livenessProbe"):
        command = ((container.get(kind) or {}).get("exec") or {}).get("command")
        if command:
            found.append((kind, tuple(command)))
    pre_stop = (((container.get("lifecycle") or {}).get("preStop") or {}).get("exec") or {}).get(
        "command"
    )
    if pre_stop:
        found.append(("preStop", tuple(pre_stop)))
    return tuple(found)


def environment(container: Container, facts: dict[str, str]) -> dict[str, str]:
    env = {}
    for name, value in container.env:
        if value.startswith("fieldRef:"):
            env[name] = facts[DOWNWARD[value.removeprefix("fieldRef:")]]
        else:
            env[name] = value
    return env
