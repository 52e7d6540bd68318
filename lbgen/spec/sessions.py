"""The family a cluster's BGP sessions run over, and each box's address in it: one rule for the
checks and the plan. IPv4 when the cluster has it (an IPv4 or dual-stack cluster, whose IPv6
routes ride the IPv4 sessions), else IPv6 (an IPv6-only cluster)."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

from lbgen.spec.boxes import Node, Reflector, Router
from lbgen.spec.model import FabricSpec


def session_version(spec: FabricSpec) -> int:
    return 4 if spec.networks.nodes is not None or spec.networks.nodes6 is None else 6


def session_address(
    spec: FabricSpec, box: Router | Reflector | Node
) -> IPv4Address | IPv6Address | None:
    """Where `box` speaks BGP; None when the spec lacks it (a check reports that)."""
    return box.address if session_version(spec) == 4 else box.address6


def session_field(spec: FabricSpec) -> str:
    """The spec field holding a box's session address."""
    return "address" if session_version(spec) == 4 else "address6"


def session_pod_subnet(spec: FabricSpec, node: Node) -> IPv4Network | IPv6Network | None:
    """The node's share of the pod network LB pods dial from (its podSubnet or podSubnet6)."""
    return node.pod_subnet if session_version(spec) == 4 else node.pod_subnet6


def session_pods(spec: FabricSpec) -> IPv4Network | IPv6Network | None:
    """The pod network LB pods dial the reflectors from."""
    return spec.networks.pods if session_version(spec) == 4 else spec.networks.pods6


def session_nodes(spec: FabricSpec) -> IPv4Network | IPv6Network | None:
    """The node network the sessions run over."""
    return spec.networks.nodes if session_version(spec) == 4 else spec.networks.nodes6
