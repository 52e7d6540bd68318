"""examples/dualstack.yaml on a kernel with IPVS: a client behind the router reaches `web`'s
IPv4 and IPv6 VIPs, IPVS forwards each to a backend of the same family (the backends see an LB
pod's address of that family: the masquerade), over several LBs (ECMP per family)."""

from __future__ import annotations

import time

from lbgen.testbed.bed import Testbed
from lbgen.testbed.clients.flows import fields
from tests.support.waiting import wait_for
from tests.vm.conftest import Record, tally


def test_both_vips_of_a_dual_stack_service_are_forwarded_to_backends_of_their_family(
    dual: Testbed, record: Record
) -> None:
    backends = [b.box for b in dual.layout.backends if b.service == "web"]
    lbs = [lb.box for lb in dual.lbs if lb.service == "web"]
    for vip, family in (("203.0.113.65", 4), ("2001:db8:64::80", 6)):
        answers = [fields(a) for a in dual.see.ask(vip, 80, 30)]
        assert len(answers) == 30
        wanted = {str(b.address if family == 4 else b.address6) for b in backends}
        peers = {str(lb.address if family == 4 else lb.address6) for lb in lbs}
        assert {a["at"] for a in answers} == wanted
        assert {a["peer"] for a in answers} <= peers
        assert len({a["peer"] for a in answers}) >= 2
        record(f"dualstack.ipv{family}", tally(answers))


def test_each_lb_holds_both_families_in_the_order_a_fresh_keepalived_builds(
    dual: Testbed,
) -> None:
    orders = {}
    for lb in (x for x in dual.lbs if x.service == "web"):
        held = dual.see.ipvs(lb.box.name)
        six = [key for key in held if key[1].version == 6]
        assert six, lb.box.name
        orders[lb.box.name] = {key: [d for d, _w in dests] for key, dests in held.items()}
    assert len({str(sorted(o.items(), key=str)) for o in orders.values()}) == 1


def test_an_emptied_ipv6_pool_withdraws_only_the_ipv6_prefix(dual: Testbed, record: Record) -> None:
    """(issue 19 c) Health is per family: the IPv4 VIP keeps all its LBs."""
    before = dual.see.router_nexthops("gw")
    backends6 = [a for b in dual.layout.backends if b.service == "web" and (a := b.box.address6)]
    started = time.monotonic()
    dual.workloads.set_endpoints("web", [], version=6)
    try:
        wait_for(lambda: not dual.see.router_nexthops("gw")["web/6"], 90, "prefix6 withdrawn")
        withdrawn = round(time.monotonic() - started, 2)
        assert dual.see.router_nexthops("gw")["web"] == before["web"]
        assert not [a for a in dual.see.ask("203.0.113.65", 80, 10) if a.startswith("error")]
    finally:
        dual.workloads.set_endpoints("web", backends6, version=6)
    wait_for(lambda: dual.see.router_nexthops("gw") == before, 180, "prefix6 announced again")
    record("announce.ipv6_pool_emptied_s", withdrawn)
