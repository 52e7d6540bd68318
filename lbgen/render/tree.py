"""The whole output of one fabric: which renderer writes which file (a router's and a
reflector's: its implementation's description, lbgen.implementations)."""

from __future__ import annotations

from lbgen.contract import AGENT_CONFIG_NAME, NODES_CONFIG_NAME
from lbgen.plan import AgentConfig, NodesConfig, Plan, PodConfig
from lbgen.render import k8s, sysctl
from lbgen.render.keepalived import render_keepalived
from lbgen.render.text import generated_by

Tree = dict[str, str]


def render_tree(plan: Plan, boxes: Tree) -> Tree:
    """The whole fabric: `boxes` (every router's and reflector's files, as each one's
    implementation writes them: lbgen.implementations), the nodes' and the cluster's."""
    tree: Tree = {**boxes, **_nodes(plan), **_cluster(plan)}
    return dict(sorted(tree.items()))


def _nodes(plan: Plan) -> Tree:
    tree: Tree = {}
    src = plan.source
    for node in plan.nodes:
        tree[f"nodes/{node.name}/sysctl.conf"] = sysctl.render_sysctl(src, sysctl.node(node))
        tree[f"nodes/{node.name}/modules-load.conf"] = sysctl.render_modules(src, node)
    return tree


def _agent_config(plan: Plan) -> str:
    config = AgentConfig(
        header=generated_by(plan.source),
        source=plan.source,
        fabric=plan.fabric,
        namespace=plan.kube.namespace,
        node_network=plan.node_network,
        pod_network=plan.pod_network,
        prefixes=tuple((s.name, s.prefix) for s in plan.services if s.prefix is not None),
        prefixes6=tuple((s.name, s.prefix6) for s in plan.services if s.prefix6 is not None),
        node_network6=plan.node_network6,
        pod_network6=plan.pod_network6,
    )
    return config.model_dump_json(indent=2) + "\n"


def _nodes_config(plan: Plan) -> str:
    config = NodesConfig(
        header=generated_by(plan.source),
        source=plan.source,
        addresses6=tuple((n.name, n.address6) for n in plan.nodes if n.address6 is not None),
    )
    return config.model_dump_json(indent=2) + "\n"


def _cluster(plan: Plan) -> Tree:
    src = plan.source
    docs = k8s.dump_manifests
    fabric = f"cluster/{k8s.FABRIC_DIR}"
    tree: Tree = {
        "cluster/kustomization.yaml": docs(src, [k8s.root_kustomization(plan)]),
        f"{fabric}/kustomization.yaml": docs(src, [k8s.fabric_kustomization(plan)]),
        f"{fabric}/namespace.yaml": docs(src, [k8s.namespace(plan)]),
        f"{fabric}/rbac.yaml": docs(src, k8s.rbac(plan)),
        f"{fabric}/node-agent.yaml": docs(src, [k8s.node_agent(plan)]),
        f"{fabric}/{AGENT_CONFIG_NAME}": _agent_config(plan),
    }
    if k8s.needs_nodes(plan):
        tree[f"{fabric}/{NODES_CONFIG_NAME}"] = _nodes_config(plan)
    if plan.monitoring is not None:
        tree[f"{fabric}/monitoring.yaml"] = docs(
            src, [k8s.pod_monitor(plan), k8s.prometheus_rule(plan)]
        )
    for service in plan.services:
        base = f"cluster/{k8s.SERVICES_DIR}/{service.name}"
        pod = PodConfig(header=generated_by(src), source=src, service=service)
        tree[f"{base}/kustomization.yaml"] = docs(src, [k8s.service_kustomization(plan, service)])
        tree[f"{base}/lb.json"] = pod.model_dump_json(indent=2) + "\n"
        tree[f"{base}/keepalived.conf"] = render_keepalived(service, {}, src)
        tree[f"{base}/rbac.yaml"] = docs(src, k8s.service_rbac(plan, service))
        tree[f"{base}/deployment.yaml"] = docs(src, [k8s.deployment(plan, service)])
        tree[f"{base}/pdb.yaml"] = docs(src, [k8s.disruption_budget(plan, service)])
        tree[f"{base}/service.yaml"] = docs(src, [k8s.load_balancer_service(plan, service)])
        tree[f"{base}/networkpolicy.yaml"] = docs(src, [k8s.network_policy(plan, service)])
    if plan.gitops is not None:
        tree["gitops/argocd.yaml"] = docs(src, k8s.argocd_applications(plan))
        tree["gitops/flux.yaml"] = docs(src, k8s.flux(plan))
    return tree
