"""Drains that keep flows (pure): an LB that leaves zebra's route gets no new flow, and the flows
it already had keep going to it for `pin_seconds` (its drain), so a graceful leave breaks none
of the connections that end within the drain, however late in it they began.

How: router-fib's nftables table gives each forwarded flow's conntrack entry the mark of the
member its first packet went to, and marks every later packet with it (beside router-fib's own
bits). A member that left a route is *pinned*: an `ip rule` sends packets carrying its mark to
a table of its own, whose one route is that member. Nothing else changes, and a pin is only a
rule: when router-fib dies its lease ends, nothing is marked, and the rule matches nothing."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lbgen.plan import RouterFibConfig
from lbgen.runtime.fib.groups import MEMBER_IDS, PROTO, Hop, Members, Network


def flow_mark(config: RouterFibConfig, member: int) -> int:
    """The conntrack mark of a flow that began on `member`: its index (from 1: 0 is a flow not
    marked yet) spread over the bits router-fib's fwmark leaves clear, so that no two members'
    marks are alike once those bits are added."""
    index, mark = member - MEMBER_IDS.start + 1, 0
    for bit in range(32):
        if not index:
            break
        if not config.fwmark >> bit & 1:
            mark |= (index & 1) << bit
            index >>= 1
    return mark


def pin_mark(config: RouterFibConfig, member: int) -> int:
    """The packet mark of a flow that began on `member`: its flow mark and router-fib's bits."""
    return flow_mark(config, member) | config.fwmark


def flow_marks(config: RouterFibConfig, members: Mapping[Hop, int]) -> dict[str, int]:
    """Each member's gateway → its flow mark: what router-fib's nftables maps hold."""
    return {gateway: flow_mark(config, nid) for (gateway, _), nid in members.items()}


def pin_priority(config: RouterFibConfig) -> int:
    """Pins come before the groups' rule: a pinned flow never reaches its group."""
    return config.rule_priority - 1


def left(
    before: Mapping[Network, Members], after: Mapping[Network, Members], prefixes: Iterable[Network]
) -> set[Hop]:
    """The next hops that were in a route of `prefixes` and are not in it any more."""
    gone: set[Hop] = set()
    for prefix in prefixes:
        kept = {hop for hop, _ in after.get(prefix, ())}
        gone |= {hop for hop, _ in before.get(prefix, ()) if hop not in kept}
    return gone


@dataclass
class Pins:
    """The members pinned now, and when each pin ends (router-fib's monotonic clock)."""

    until: dict[Hop, float] = field(default_factory=dict)

    def pin(self, hops: Iterable[Hop], now: float, seconds: float) -> None:
        """Pin each of `hops` for `seconds` from `now` (a pin already there is extended)."""
        for hop in hops:
            self.until[hop] = max(self.until.get(hop, 0.0), now + seconds)

    def ended(self, now: float) -> list[Hop]:
        """The pins whose time is up at `now`."""
        return [hop for hop, until in self.until.items() if until <= now]

    def expire(self, now: float) -> None:
        """Drop the pins that have ended."""
        for hop in self.ended(now):
            del self.until[hop]


def held_pins(config: RouterFibConfig, rules: Iterable[Mapping[str, Any]]) -> set[int]:
    """The members with a pin rule in `ip -j rule show` (either family's listing)."""
    found: set[int] = set()
    for rule in rules:
        table = str(rule.get("table", ""))
        if rule.get("priority") != pin_priority(config) or not table.isdigit():
            continue
        member = int(table)
        if member in MEMBER_IDS and rule.get("fwmark") == f"{pin_mark(config, member):#x}":
            found.add(member)
    return found


def _six(hop: Hop) -> bool:
    return ":" in hop[0]


def pin_lines(
    config: RouterFibConfig, members: Mapping[Hop, int], wanted: Iterable[Hop], pinned: set[int]
) -> tuple[list[str], list[str], set[int]]:
    """The `ip -batch` lines (IPv4 rules, and every pin's route) and the `ip -6 -batch` lines
    (IPv6 rules: a batch line cannot name its family) that make the pins held (`pinned`, member
    ids) the `wanted` ones, and the pins held then. Run before the groups change: a member is
    pinned before it leaves its group."""
    want = {members[hop]: hop for hop in wanted if hop in members}
    by_id = {nid: hop for hop, nid in members.items()}
    lines: list[str] = []
    lines6: list[str] = []
    for member, verb in [
        *((m, "add") for m in sorted(want.keys() - pinned)),
        *((m, "del") for m in sorted(pinned - want.keys())),
    ]:
        six = _six(by_id.get(member, ("", "")))
        everywhere = "::/0" if six else "default"
        route = f"route replace {everywhere} nhid {member} table {member} proto {PROTO}"
        rule = f"rule {verb} fwmark {pin_mark(config, member):#x} lookup {member}"
        # the route before its rule, and the rule gone before its route
        if verb == "add":
            lines.append(route)
        (lines6 if six else lines).append(f"{rule} priority {pin_priority(config)}")
        if verb == "del":
            lines.append(f"route del {everywhere} table {member}")
    return lines, lines6, set(want)
