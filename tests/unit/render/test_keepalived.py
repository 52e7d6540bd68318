"""lbgen/render/keepalived.py: each VIP of a dual-stack service is served by the backends of
its own family."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address

from lbgen.plan import ServicePlan
from lbgen.render.keepalived import RealServer, virtual_servers

HTTP = ("http", "TCP")


def test_each_vip_is_served_by_the_backends_of_its_family(dual_web: ServicePlan) -> None:
    pools = {
        HTTP: (
            RealServer(IPv4Address("10.60.2.100"), 8080),
            RealServer(IPv6Address("fd00:61:0:2::100"), 8080),
        )
    }
    found = {
        (str(v.vip), tuple(str(s.address) for s in v.servers))
        for v in virtual_servers(dual_web, pools)
    }
    assert found == {
        ("203.0.113.65", ("10.60.2.100",)),
        ("2001:db8:64::80", ("fd00:61:0:2::100",)),
    }
    # an IPv6 VIP with no IPv6 backend yet has no virtual server (nothing to balance to)
    only4 = {HTTP: pools[HTTP][:1]}
    assert [str(v.vip) for v in virtual_servers(dual_web, only4)] == ["203.0.113.65"]
