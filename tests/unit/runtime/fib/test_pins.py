"""Drains that keep flows on the router (pure): a member that left a route is pinned, so the
flows it had keep reaching it for the drain, before it leaves its group; a pin ends by itself,
and the member object it needs is kept until then."""

from __future__ import annotations

from ipaddress import ip_network

from lbgen.runtime.fib.groups import GROUP_IDS, MEMBER_IDS, PROTO, TWIN, Held, batch
from lbgen.runtime.fib.pins import Pins, flow_mark, held_pins, left, pin_lines, pin_mark
from tests.unit.runtime.fib.test_groups import ARGS, CONFIG

P1, P2 = ip_network("10.1.1.0/24"), ip_network("10.1.2.0/24")


A, B, C = ("10.0.0.104", "eth0"), ("10.0.0.105", "eth0"), ("10.0.0.106", "eth0")


SIX = ("2001:db8::105", "eth0")


M, G = MEMBER_IDS.start, GROUP_IDS.start


def test_the_next_hops_that_left_a_route_of_the_prefixes_looked_at() -> None:
    before = {P1: ((A, 1), (B, 1)), P2: ((A, 1), (C, 1))}
    after = {P1: ((A, 1),), P2: ((A, 1),)}
    assert left(before, after, [P1]) == {B}
    assert left(before, after, [P1, P2]) == {B, C}
    assert left(before, {}, [P1]) == {A, B}  # the route gone altogether


def test_a_pin_lasts_its_seconds_and_is_extended_not_shortened() -> None:
    pins = Pins()
    pins.pin([B], now=100.0, seconds=10)
    pins.pin([B], now=95.0, seconds=10)
    assert pins.until == {B: 110.0}
    assert pins.ended(109.9) == []
    assert pins.ended(110.0) == [B]
    pins.expire(110.0)
    assert pins.until == {}


def test_a_pin_is_a_route_to_its_member_in_a_table_of_its_own_and_a_rule_for_its_mark() -> None:
    members = {A: M, B: M + 1, SIX: M + 2}
    lines, lines6, pinned = pin_lines(CONFIG, members, [B, SIX], set())
    mark, mark6 = pin_mark(CONFIG, M + 1), pin_mark(CONFIG, M + 2)
    assert lines == [
        f"route replace default nhid {M + 1} table {M + 1} proto {PROTO}",
        f"rule add fwmark {mark:#x} lookup {M + 1} priority 10041",
        f"route replace ::/0 nhid {M + 2} table {M + 2} proto {PROTO}",
    ]
    assert lines6 == [f"rule add fwmark {mark6:#x} lookup {M + 2} priority 10041"]
    assert pinned == {M + 1, M + 2}
    # held already: nothing to do; ended: the rule goes before its route
    assert pin_lines(CONFIG, members, [B, SIX], pinned) == ([], [], pinned)
    lines, lines6, pinned = pin_lines(CONFIG, members, [], {M + 1, M + 2})
    assert lines == [
        f"rule del fwmark {mark:#x} lookup {M + 1} priority 10041",
        f"route del default table {M + 1}",
        f"route del ::/0 table {M + 2}",
    ]
    assert lines6 == [f"rule del fwmark {mark6:#x} lookup {M + 2} priority 10041"]
    assert pinned == set()


def test_every_members_marks_are_its_own_with_the_agents_bits_or_without() -> None:
    """A flow's mark carries its member's index in the bits router-fib's fwmark leaves clear:
    once those bits are added (every marked packet has them), no two members look alike (with
    the member id itself, node 0x…02 | 0x4c42 was node 0x…00's)."""
    for fwmark in (0x4C42, 0x1, 0xFFFF, 0x7FFF0000):
        config = CONFIG.model_copy(update={"fwmark": fwmark})
        members = range(M, M + 5000)
        flows = {flow_mark(config, m) for m in members}
        pins = {pin_mark(config, m) for m in members}
        assert len(flows) == len(pins) == 5000
        assert 0 not in flows
        assert all(f & fwmark == 0 for f in flows)


def test_only_its_own_rules_are_read_as_pins() -> None:
    rules = [
        {"priority": 10041, "fwmark": f"{pin_mark(CONFIG, M + 1):#x}", "table": str(M + 1)},
        {"priority": 10041, "fwmark": "0x1", "table": str(M + 2)},  # not its mark
        {"priority": 10041, "fwmark": f"{pin_mark(CONFIG, 7):#x}", "table": "7"},  # not its ids
        {"priority": 100, "fwmark": f"{pin_mark(CONFIG, M):#x}", "table": str(M)},  # elsewhere
        {"priority": 10041, "table": "main"},
        {"priority": 10042, "fwmark": "0x4c42/0x4c42", "table": "4242"},  # its groups' rule
    ]
    assert held_pins(CONFIG, rules) == {M + 1}


def test_a_pinned_member_stays_though_no_group_has_it_and_goes_once_unpinned() -> None:
    _, now = batch(CONFIG, {P1: ((A, 1), (B, 1))}, Held())
    lines, after = batch(CONFIG, {P1: ((A, 1),)}, now, keep=[B])
    assert lines == [f"nexthop replace id {G} group {M},1/{M + TWIN},1 {ARGS}"]
    assert after.members == {A: M, B: M + 1}
    lines, after = batch(CONFIG, {P1: ((A, 1),)}, after, only=())
    assert lines == [f"nexthop del id {M + 1 + TWIN}", f"nexthop del id {M + 1}"]
    assert after.members == {A: M}
