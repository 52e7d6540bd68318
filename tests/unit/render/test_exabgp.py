"""lbgen/render/exabgp.py: what an LB pod's exabgp.conf holds (a router id hashed from its
address, IPv6 too)."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address

from lbgen.render.exabgp import router_id


def test_an_lb_pods_router_id_is_hashed_from_its_ipv6_address() -> None:
    assert router_id(IPv4Address("10.0.0.7")) == IPv4Address("10.0.0.7")
    pod = IPv6Address("fd00:71:0:1::a")
    assert router_id(pod) == router_id(IPv6Address(str(pod)))  # the same on every start
    # 256 pods on each of 64 nodes: no two share one
    pods = [IPv6Address(f"fd00:71:0:{n:x}::{h:x}") for n in range(64) for h in range(256)]
    assert len({router_id(p) for p in pods}) == len(pods)
    assert all(int(router_id(p)) != 0 for p in pods)
