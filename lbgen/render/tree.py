"""The whole output of one fabric: which renderer writes which file."""

from __future__ import annotations

from lbgen.contract import AGENT_CONFIG_NAME, BOX_PASSWORDS_NAME, NODES_CONFIG_NAME
from lbgen.plan import AgentConfig, BoxPasswords, NodesConfig, Plan, PodConfig
from lbgen.render import k8s, sysctl
from lbgen.render.bird import render_bird_conf
from lbgen.render.external import render_contract
from lbgen.render.fib import render_router_fib
from lbgen.render.frr import (
    reflector_fds,
    reflector_passwords,
    render_frr_conf,
    render_frr_daemons,
    render_reflector_frr,
    render_staticd_conf,
    render_zebra_conf,
    router_passwords,
)
from lbgen.render.gobgp import render_reflector_gobgpd, render_router_gobgpd
from lbgen.render.keepalived import render_keepalived
from lbgen.render.text import generated_by

Tree = dict[str, str]


def render_tree(plan: Plan) -> Tree:
    tree: Tree = {**_network(plan), **_cluster(plan)}
    return dict(sorted(tree.items()))


def _network(plan: Plan) -> Tree:
    src = plan.source
    tree: Tree = {}
    for router in plan.routers:
        base = f"routers/{router.name}"
        if router.implementation == "frr":
            conf = render_frr_conf(router, src)
            tree.update(_frr(base, conf, router_passwords(router, src), src, staticd=True))
        elif router.implementation == "bird":
            tree[f"{base}/bird.conf"] = render_bird_conf(router, src)
            tree.update(_passwords(base, router_passwords(router, src)))
        elif router.implementation == "external":
            tree.update({f"{base}/{n}": text for n, text in render_contract(router, src).items()})
            continue
        else:
            tree[f"{base}/gobgpd.yaml"] = render_router_gobgpd(router, src)
            tree[f"{base}/zebra.conf"] = render_zebra_conf(router, src)
            tree[f"{base}/staticd.conf"] = render_staticd_conf(router, src)
        tree[f"{base}/sysctl.conf"] = sysctl.render_sysctl(src, sysctl.router(router.families))
        tree.update(
            {f"{base}/{name}": text for name, text in render_router_fib(router, src).items()}
        )
    for rr in plan.reflectors:
        base = f"reflectors/{rr.name}"
        if rr.implementation == "frr":
            conf = render_reflector_frr(rr, src)
            passwords = reflector_passwords(rr, src)
            fds = reflector_fds(rr)
            tree.update(_frr(base, conf, passwords, src, staticd=False, max_fds=fds))
        else:
            tree[f"{base}/gobgpd.yaml"] = render_reflector_gobgpd(rr, src)
        tree[f"{base}/sysctl.conf"] = sysctl.render_sysctl(src, sysctl.REFLECTOR)
    for node in plan.nodes:
        tree[f"nodes/{node.name}/sysctl.conf"] = sysctl.render_sysctl(src, sysctl.node(node))
        tree[f"nodes/{node.name}/modules-load.conf"] = sysctl.render_modules(src, node)
    return tree


def _frr(
    base: str,
    conf: str,
    passwords: BoxPasswords | None,
    src: str,
    *,
    staticd: bool,
    max_fds: int | None = None,
) -> Tree:
    """An FRR box's files: frr.conf, the daemons file (`staticd`: a router's discard routes;
    `max_fds`: a reflector's open files), and passwords.json when its sessions have passwords
    (which file holds each; never one)."""
    daemons = render_frr_daemons(src, staticd=staticd, max_fds=max_fds)
    return {f"{base}/frr.conf": conf, f"{base}/daemons": daemons, **_passwords(base, passwords)}


def _passwords(base: str, passwords: BoxPasswords | None) -> Tree:
    """passwords.json when a box's sessions have passwords (which file holds each; never one)."""
    if passwords is None:
        return {}
    return {f"{base}/{BOX_PASSWORDS_NAME}": passwords.model_dump_json(indent=2) + "\n"}


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
