"""Which resilient nexthop groups a router should hold for zebra's routes, which it holds, and
the `ip -batch` lines between the two (pure).

zebra stays the authority: a service prefix's group has exactly the next hops (and weights) of
zebra's route for it in the main table. Router-fib owns only nexthop objects of its protocol and
id ranges and the routes of its own table, so zebra's objects and any other table are never
touched. A group is changed in place (`nexthop replace`), which is what keeps flows: the kernel
moves only the buckets of a next hop that left (or, for a newcomer, buckets that were idle)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Network
from typing import Any

from lbgen.plan import RouterFibConfig

# the routing protocol number of router-fib's routes and nexthop objects
PROTO = "250"
# its nexthop ids: per (gateway, device) a member and its twin (the same next hop, id + TWIN),
# both in every group it is in, so that no group is ever one path: the kernel forwards a route
# of one path without hashing, so no bucket is marked busy, and when a second LB returns every
# bucket looks idle and half the flows move with them (a 2-LB service mid-rollout); one group
# per prefix
MEMBER_IDS = range(0x6C000000, 0x6C400000)
TWIN = 0x400000
GROUP_IDS = range(0x6C800000, 0x6D000000)
WEIGHTS = range(1, 257)  # what a kernel group takes

Network = IPv4Network | IPv6Network
Hop = tuple[str, str]  # (gateway, device)
Members = tuple[tuple[Hop, int], ...]  # each next hop and its weight, sorted


@dataclass(frozen=True)
class Route:
    """zebra's route for one prefix: its metric (the kernel's key beside the prefix) and its next
    hops with their weights (empty: a route with no gateway, which no group can copy)."""

    metric: int
    members: Members


@dataclass
class Held:
    """What the kernel holds of router-fib's: its member objects, its groups and its routes."""

    members: dict[Hop, int] = field(default_factory=dict)  # (gateway, device) → nexthop id
    twins: set[int] = field(default_factory=set)  # the members whose twin exists
    groups: dict[int, tuple[tuple[int, int], ...]] = field(default_factory=dict)  # id → members
    settings: dict[int, tuple[int, int, int]] = field(default_factory=dict)  # id → its args
    routes: dict[Network, int] = field(default_factory=dict)  # prefix → group id
    pinned: set[int] = field(default_factory=set)  # members with a pin (pins.py)


def owned_by_text(prefixes: Iterable[Network]) -> dict[str, Network]:
    """Each prefix by the text iproute2 shows for it (a host route has no length), so that a
    listing of a thousand routes is matched without parsing each."""
    found: dict[str, Network] = {}
    for prefix in prefixes:
        host = prefix.prefixlen == prefix.max_prefixlen
        found[str(prefix.network_address) if host else str(prefix)] = prefix
    return found


def zebra_routes(
    entries: Iterable[Mapping[str, Any]], owned: Mapping[str, Network]
) -> dict[Network, Route]:
    """prefix → each of `owned`'s routes in `ip -j route show table main proto bgp` (either
    family's listing) that has a gateway; anything else, or an entry it cannot read, is left
    out."""
    found: dict[Network, Route] = {}
    for entry in entries:
        prefix = owned.get(str(entry.get("dst")))
        if prefix is None:
            continue
        hops = entry.get("nexthops") or [entry]
        members: dict[Hop, int] = {}
        for hop in hops:
            if not isinstance(hop, Mapping) or not hop.get("gateway") or not hop.get("dev"):
                continue
            weight = hop.get("weight", 1)
            weight = weight if isinstance(weight, int) and weight in WEIGHTS else 1
            members[(str(hop["gateway"]), str(hop["dev"]))] = weight
        if members:
            metric = entry.get("metric", 0)
            metric = metric if isinstance(metric, int) else 0
            found[prefix] = Route(metric, tuple(sorted(members.items())))
    return found


def wanted(zebra: Mapping[Network, Route]) -> dict[Network, Members]:
    """The groups that zebra's routes ask for: one per route with a gateway."""
    return {prefix: route.members for prefix, route in zebra.items() if route.members}


def held(
    nexthops: Iterable[Mapping[str, Any]],
    routes: Iterable[Mapping[str, Any]],
    owned: Mapping[str, Network],
) -> Held:
    """Router-fib's own objects in `ip -j nexthop show` and its table's `ip -j route show table T`
    (both families): only ids in its ranges with its protocol, routes of its prefixes."""
    state = Held()
    twins: set[int] = set()
    for nh in nexthops:
        nid = nh.get("id")
        if str(nh.get("protocol")) != PROTO or not isinstance(nid, int):
            continue
        if nid in MEMBER_IDS and nh.get("gateway") and nh.get("dev"):
            state.members[(str(nh["gateway"]), str(nh["dev"]))] = nid
        elif nid - TWIN in MEMBER_IDS:
            twins.add(nid - TWIN)
        elif nid in GROUP_IDS and isinstance(nh.get("group"), list):
            state.groups[nid] = tuple((int(m["id"]), int(m.get("weight", 1))) for m in nh["group"])
            args = nh.get("resilient_args") or {}
            state.settings[nid] = (
                int(args.get("buckets", 0)),
                int(args.get("idle_timer", 0)),
                int(args.get("unbalanced_timer", 0)),
            )
    for route in routes:
        prefix = owned.get(str(route.get("dst")))
        if prefix is None:
            continue
        nhid = route.get("nhid")
        if isinstance(nhid, int) and nhid in state.groups:
            state.routes[prefix] = nhid
    state.twins = twins & set(state.members.values())
    return state


def twinned(group: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """A group's members with their twins, each with its member's weight."""
    return tuple(
        sorted(pair for nid, weight in group for pair in ((nid, weight), (nid + TWIN, weight)))
    )


def _free(ids: range, taken: Iterable[int]) -> Iterator[int]:
    used = set(taken)
    return (i for i in ids if i not in used)


def _by_family(prefixes: Iterable[Network]) -> list[Network]:
    return sorted(prefixes, key=lambda p: (p.version, p))


def batch(
    config: RouterFibConfig,
    wanted: Mapping[Network, Members],
    now: Held,
    only: Collection[Network] | None = None,
    keep: Collection[Hop] = (),
) -> tuple[list[str], Held]:
    """The `ip -batch` lines that make `now` hold one resilient group per prefix of `wanted`,
    with its members and weights, routed in router-fib's table (none when they agree), and what
    the kernel holds of router-fib's once they are applied. `only`: the prefixes a reported
    change names, so that its cost grows with the change (None: every prefix, a full round);
    `keep`: members to keep though no group has them (pinned ones).
    New objects first, then the groups and routes, then what is no longer used."""
    settings = (config.buckets, config.idle_timer, config.unbalanced_timer)
    args = (
        f"type resilient buckets {config.buckets} idle_timer {config.idle_timer} "
        f"unbalanced_timer {config.unbalanced_timer} proto {PROTO}"
    )
    lines: list[str] = []
    considered = now.routes.keys() | wanted.keys() if only is None else set(only)
    members = dict(now.members)
    needed = {hop for p in considered & wanted.keys() for hop, _ in wanted[p]}
    fresh_members = _free(MEMBER_IDS, members.values())
    for hop in sorted(needed - members.keys()):
        members[hop] = next(fresh_members)
        lines.append(f"nexthop add id {members[hop]} via {hop[0]} dev {hop[1]} proto {PROTO}")
    twins = set(now.twins)
    for hop in sorted(needed):  # a member its twin (what a router-fib before twins left has none)
        if members[hop] not in twins:
            nid = members[hop] + TWIN
            lines.append(f"nexthop add id {nid} via {hop[0]} dev {hop[1]} proto {PROTO}")
            twins.add(members[hop])
    after = Held(members, twins, dict(now.groups), dict(now.settings), dict(now.routes), now.pinned)
    fresh_groups = _free(GROUP_IDS, now.groups)
    for prefix in _by_family(considered & wanted.keys()):
        group = twinned((members[hop], weight) for hop, weight in wanted[prefix])
        spec = "/".join(f"{m},{w}" for m, w in group)
        gid = now.routes.get(prefix)
        if gid is not None and now.settings.get(gid) == settings:
            if now.groups[gid] != group:
                lines.append(f"nexthop replace id {gid} group {spec} {args}")
        else:
            # a new prefix, or settings the kernel cannot change in place (its buckets)
            gid = next(fresh_groups)
            lines.append(f"nexthop add id {gid} group {spec} {args}")
            lines.append(f"route replace {prefix} nhid {gid} table {config.table} proto {PROTO}")
        after.groups[gid], after.settings[gid], after.routes[prefix] = group, settings, gid
    for prefix in _by_family(p for p in considered - wanted.keys() if p in now.routes):
        lines.append(f"route del {prefix} table {config.table}")
        del after.routes[prefix]
    routed = set(after.routes.values())
    for gid in sorted(after.groups.keys() - routed):
        lines.append(f"nexthop del id {gid}")
        del after.groups[gid], after.settings[gid]
    # a member still in a group is never deleted: the kernel would take it out of that group
    grouped = {nid for group in after.groups.values() for nid, _ in group}
    unused = {
        hop: nid
        for hop, nid in members.items()
        if hop not in needed and nid not in grouped and hop not in keep and nid not in now.pinned
    }
    for _, nid in sorted(unused.items()):
        if nid in twins:
            lines.append(f"nexthop del id {nid + TWIN}")
            twins.discard(nid)
        lines.append(f"nexthop del id {nid}")
    after.members = {hop: nid for hop, nid in members.items() if hop not in unused}
    return lines, after
