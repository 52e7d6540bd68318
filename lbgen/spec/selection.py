"""Which nodes may run a service's LBs: one rule, used by the checks and the plan alike."""

from __future__ import annotations

from lbgen.spec.boxes import Node
from lbgen.spec.services import Service


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


class Eligibility:
    """eligible_nodes of many services over the same nodes, worked out once per distinct choice
    (most services share one: every node, or a rack's)."""

    def __init__(self, nodes: tuple[Node, ...]) -> None:
        self._nodes = nodes
        self._found: dict[object, tuple[Node, ...]] = {}
        self._names: dict[object, tuple[str, ...]] = {}

    def __call__(self, service: Service) -> tuple[Node, ...]:
        key = self._key(service)
        if key not in self._found:
            self._found[key] = eligible_nodes(service, self._nodes)
        return self._found[key]

    def names(self, service: Service) -> tuple[str, ...]:
        """Their names, sorted."""
        key = self._key(service)
        if key not in self._names:
            self._names[key] = tuple(sorted(node.name for node in self(service)))
        return self._names[key]

    @staticmethod
    def _key(service: Service) -> object:
        wanted = service.load_balancers
        return wanted.nodes, tuple(sorted(wanted.node_selector.items()))
