"""Which nodes may run a service's LBs: one rule, used by the checks and the plan alike."""

from __future__ import annotations

from lbgen.spec.model import Node, Service


def eligible_nodes(service: Service, nodes: tuple[Node, ...]) -> tuple[Node, ...]:
    """Nodes listed in `loadBalancers.nodes` (if any) with all `nodeSelector` labels, spec order"""
    wanted = service.load_balancers
    allowed = set(wanted.nodes) if wanted.nodes is not None else None
    return tuple(
        node
        for node in nodes
        if (allowed is None or node.name in allowed)
        and all(node.labels.get(k) == v for k, v in wanted.node_selector.items())
    )
