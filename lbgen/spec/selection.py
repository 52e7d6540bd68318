"""Which nodes may run a service's LBs: one rule, used by the checks and the plan alike."""

from __future__ import annotations

from lbgen.spec.model import Node, Service


def eligible_nodes(service: Service, nodes: tuple[Node, ...]) -> tuple[Node, ...]:
    """Nodes named in `loadBalancers.nodes` (if set) carrying every `nodeSelector` label."""
    wanted = service.load_balancers
    allowed = set(wanted.nodes) if wanted.nodes is not None else None
    return tuple(
        node
        for node in sorted(nodes, key=lambda n: n.name)
        if (allowed is None or node.name in allowed)
        and all(node.labels.get(k) == v for k, v in wanted.node_selector.items())
    )
