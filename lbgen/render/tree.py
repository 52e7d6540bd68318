"""The whole output of one fabric: which renderer writes which file."""

from __future__ import annotations

from lbgen.plan import Plan
from lbgen.render import sysctl
from lbgen.render.frr import render_frr_conf, render_frr_daemons, render_zebra_conf
from lbgen.render.gobgp import render_reflector_gobgpd, render_router_gobgpd

Tree = dict[str, str]


def render_tree(plan: Plan) -> Tree:
    src = plan.source
    tree: Tree = {}
    for router in plan.routers:
        base = f"routers/{router.name}"
        if router.implementation == "frr":
            tree[f"{base}/frr.conf"] = render_frr_conf(router, src)
            tree[f"{base}/daemons"] = render_frr_daemons(src)
        else:
            tree[f"{base}/gobgpd.yaml"] = render_router_gobgpd(router, src)
            tree[f"{base}/zebra.conf"] = render_zebra_conf(router, src)
        tree[f"{base}/sysctl.conf"] = sysctl.render_sysctl(src, sysctl.ROUTER)
    for rr in plan.reflectors:
        base = f"reflectors/{rr.name}"
        tree[f"{base}/gobgpd.yaml"] = render_reflector_gobgpd(rr, src)
        tree[f"{base}/sysctl.conf"] = sysctl.render_sysctl(src, sysctl.REFLECTOR)
    for node in plan.nodes:
        tree[f"nodes/{node.name}/sysctl.conf"] = sysctl.render_sysctl(src, sysctl.NODE)
    return dict(sorted(tree.items()))
