"""lbgen/render/sysctl.py: each box's kernel settings, per family it forwards (an IPv6-only
cluster's routers and nodes forward IPv6 only)."""

from __future__ import annotations

from lbgen.plan import Plan
from lbgen.render import sysctl


def test_routers_and_nodes_forward_ipv6_only(six_plan: Plan) -> None:
    keys = {s.key for s in sysctl.router(six_plan.routers[0].families)}
    assert keys == {"net.ipv6.conf.all.forwarding", "net.ipv6.fib_multipath_hash_policy"}
    node = {s.key for s in sysctl.node(six_plan.nodes[0])}
    assert "net.ipv4.ip_forward" not in node
    assert "net.ipv6.conf.all.forwarding" in node
