"""examples/ipv6.yaml on a kernel with IPVS: an IPv6-only cluster, whose LB pods peer over IPv6
and whose pods, backends and clients have no IPv4 address. A client behind the router reaches
each service's IPv6 VIP; IPVS forwards to the service's IPv6 backends (which see an LB pod's
address: the masquerade), over several LBs (ECMP)."""

from __future__ import annotations

from lbgen.testbed.bed import Testbed
from lbgen.testbed.clients.asking import ask_udp
from lbgen.testbed.clients.flows import fields
from tests.support.waiting import wait_for
from tests.vm.conftest import Record, tally


def test_each_services_ipv6_vip_is_forwarded_to_its_ipv6_backends(
    six: Testbed, record: Record
) -> None:
    for service in six.plan.services:
        backends = {str(b.box.address6) for b in six.layout.backends if b.service == service.name}
        lbs = {str(lb.box.address6) for lb in six.lbs if lb.service == service.name}
        (vip,) = service.vips6
        port = next(p.port for p in service.ports if p.protocol == "TCP")
        answers = [fields(a) for a in six.see.ask(str(vip), port, 30)]
        assert len(answers) == 30
        assert {a["at"] for a in answers} == backends
        assert {a["peer"] for a in answers} <= lbs
        assert len({a["peer"] for a in answers}) >= 2
        record(f"ipv6.{service.name}", tally(answers))


def test_every_lb_holds_only_ipv6_virtual_servers_in_one_order(six: Testbed) -> None:
    for service in six.plan.services:
        orders = []
        for lb in (x for x in six.lbs if x.service == service.name):
            held = six.see.ipvs(lb.box.name)
            assert held, lb.box.name
            assert {key[1].version for key in held} == {6}
            orders.append({key: [d for d, _w in dests] for key, dests in held.items()})
        assert all(order == orders[0] for order in orders), orders


def test_a_udp_service_is_forwarded_by_ipvs_and_withdrawn_with_its_backend(
    six: Testbed, record: Record
) -> None:
    """(issue 19 g) `dns`'s UDP port through IPVS to its backends, each datagram a flow; its
    backend emptied: every LB withdraws, announced again once it is back."""
    dns = six.service("dns")
    (vip,) = dns.vips6
    udp = next(p.port for p in dns.ports if p.protocol == "UDP")
    backends = [a for b in six.layout.backends if b.service == "dns" and (a := b.box.address6)]
    answers = [fields(a) for a in ask_udp(six.see.client().box.netns, str(vip), udp, 30)]
    assert {a.get("at") for a in answers} == {str(b) for b in backends}, answers
    record("ipv6.dns_udp", tally(answers))
    six.workloads.set_endpoints("dns", [], version=6)
    try:
        wait_for(lambda: not six.see.router_nexthops("gw")["dns/6"], 90, "dns withdrawn")
    finally:
        six.workloads.set_endpoints("dns", backends, version=6)
    wait_for(lambda: len(six.see.router_nexthops("gw")["dns/6"]) == 2, 180, "dns announced again")
