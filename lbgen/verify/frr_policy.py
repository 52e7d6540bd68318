"""Check the import policy of a rendered frr.conf (router or reflector) against the plan's grants:
the route maps on the sessions routes come in by must accept exactly the granted (prefix, next
hop) pairs, exactly, with an empty AS path, resetting LOCAL_PREF, MED and communities."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Network, ip_network

from lbgen.diagnostics import Diagnostic, Position, broken
from lbgen.plan import Granting, RouteGrant
from lbgen.verify.frr import statements
from lbgen.verify.speaker import (
    Accepted,
    Canonical,
    accept,
    differing,
    granted,
    group_sets,
    shown,
)

# what an accepted route must carry (written apart from the template, so a drift is caught)
RESET = {"local-preference": "100", "metric": "0", "community": "none"}
# and, at a router, an IPv6 one: the global next hop (the node), not the link-local one an
# IPv6 session adds (over eBGP, the reflector's own)
PREFER_GLOBAL = {"ipv6": "next-hop prefer-global"}

Net = IPv4Network | IPv6Network


@dataclass
class _Entry:
    permit: bool
    line: int
    matches: dict[str, str] = field(default_factory=dict)
    sets: dict[str, str] = field(default_factory=dict)
    call: str | None = None  # the route map it calls once it matches (its checks and sets)


@dataclass
class _Policy:
    """The filtering parts of one frr.conf."""

    prefix_lists: dict[str, list[tuple[bool, Net, bool]]] = field(default_factory=dict)
    as_paths: dict[str, list[tuple[bool, str]]] = field(default_factory=dict)
    route_maps: dict[str, list[tuple[int, _Entry]]] = field(default_factory=dict)
    inbound: dict[str, tuple[str, int]] = field(default_factory=dict)  # neighbour → (map, line)
    outbound: dict[str, tuple[str, int]] = field(default_factory=dict)
    peers: dict[str, int] = field(default_factory=dict)  # configured neighbour → its line
    ranges: dict[Net, str] = field(default_factory=dict)  # listen range → peer-group
    as_path: str = "^$"  # the only one an accepting entry may let in
    exact: dict[str, frozenset[Net] | None] = field(default_factory=dict)  # read once each


def _read(text: str, as_path: str) -> _Policy:
    policy = _Policy(as_path=as_path)
    entry: _Entry | None = None
    for number, raw, words in statements(text):
        if not raw.startswith(" "):
            entry = None
        # ip|ipv6 prefix-list NAME seq N permit|deny PREFIX [ge|le ...]
        if (
            words[0] in ("ip", "ipv6")
            and words[1:2] == ["prefix-list"]
            and words[3:4] == ["seq"]
            and len(words) >= 7
        ):
            net = ip_network(words[6])
            if (net.version == 6) != (words[0] == "ipv6"):
                raise ValueError(f"line {number}: {words[6]} in an {words[0]} prefix list")
            policy.prefix_lists.setdefault(words[2], []).append(
                (words[5] == "permit", net, len(words) > 7)
            )
        # bgp as-path access-list NAME seq N permit|deny REGEX
        elif words[:3] == ["bgp", "as-path", "access-list"] and len(words) == 8:
            policy.as_paths.setdefault(words[3], []).append((words[6] == "permit", words[7]))
        elif words[0] == "route-map" and len(words) == 4:
            entry = _Entry(words[2] == "permit", number)
            policy.route_maps.setdefault(words[1], []).append((int(words[3]), entry))
        elif entry is not None and words[0] == "match":
            entry.matches[" ".join(words[1:-1])] = words[-1]
        elif entry is not None and words[0] == "set":
            entry.sets[words[1]] = " ".join(words[2:])
        elif entry is not None and words[0] == "call" and len(words) == 2:
            entry.call = words[1]
        elif words[:3] == ["bgp", "listen", "range"] and len(words) == 6:
            policy.ranges[ip_network(words[3])] = words[5]
        elif words[0] == "neighbor" and words[2:3] == ["route-map"] and words[4:] == ["in"]:
            policy.inbound[words[1]] = (words[3], number)
        elif words[0] == "neighbor" and words[2:3] == ["route-map"] and words[4:] == ["out"]:
            policy.outbound[words[1]] = (words[3], number)
        elif words[0] == "neighbor" and words[2:3] == ["remote-as"]:
            policy.peers.setdefault(words[1], number)
    return policy


def check_frr_import_policy(
    text: str, file: str, kind: str, box: Granting, as_path: str = "^$"
) -> Iterator[Diagnostic]:
    """A router: each reflector session grants all the pairs. A reflector: each listen range's
    peer-group grants the pairs of the nodes whose LB pods come from that range. `as_path`:
    the one AS path accepted (empty; the fabric's AS across eBGP)."""
    policy = _read(text, as_path)
    sets = group_sets(box.groups)
    canonical = Canonical(sets)
    if kind == "router":
        wanted = granted(sets, box.grants)
        for neighbor, line in policy.peers.items():
            if neighbor not in policy.inbound:
                yield broken(
                    "LB207",
                    Position(file, line, 1),
                    f"the session with {neighbor} has no import route map: everything it "
                    "sends would be accepted",
                )
                continue
            yield from _compare(policy, file, neighbor, wanted, canonical, router=True)
        return
    by_peers: dict[Net, list[RouteGrant]] = {}
    for grant in box.grants:
        by_peers.setdefault(grant.peers, []).append(grant)
    for peers, group in sorted(policy.ranges.items()):
        yield from _sends_nothing(policy, file, peers, group)
        wanted = granted(sets, by_peers.get(peers, ()))
        if group not in policy.inbound:
            yield broken(
                "LB207",
                Position(file, 1, 1),
                f"LB peers in {peers} (peer-group {group}) have no import route map: "
                "everything they announce would be accepted",
            )
            continue
        yield from _compare(policy, file, group, wanted, canonical)


def _sends_nothing(policy: _Policy, file: str, peers: Net, group: str) -> Iterator[Diagnostic]:
    """LB pods need no routes: their peer-group's outbound map denies everything (without one,
    each LB pod would get every service's best path, and every LB's route would go to all)."""
    name, line = policy.outbound.get(group, ("", 1))
    entries = policy.route_maps.get(name)
    if not entries or any(entry.permit for _, entry in entries):
        yield broken(
            "LB213",
            Position(file, line, 1),
            f"LB peers in {peers} (peer-group {group}) would be sent routes: their outbound "
            "route map must deny everything",
        )


def _compare(
    policy: _Policy,
    file: str,
    neighbor: str,
    wanted: Accepted,
    canonical: Canonical,
    *,
    router: bool = False,
) -> Iterator[Diagnostic]:
    name, line = policy.inbound[neighbor]
    where = Position(file, line, 1)
    if name not in policy.route_maps:
        yield broken("LB207", where, f"route map {name} of {neighbor} is not defined")
        return
    accepted: Accepted = {}
    for _, entry in sorted(policy.route_maps[name], key=lambda found: found[0]):
        if not entry.permit:
            continue
        label = f"route map {name} (line {entry.line})"
        prefixes, hops, problems = _accepting(policy, entry, label, router=router)
        accept(accepted, prefixes, hops)
        for problem in problems:
            yield broken("LB207", Position(file, entry.line, 1), problem)
    differ = differing(accepted, wanted, canonical)
    if differ:
        yield broken(
            "LB207",
            where,
            f"the routes {neighbor}'s import route map accepts differ from the plan's grants "
            f"at {shown(differ)}",
        )


def _exact_permits(policy: _Policy, name: str | None) -> frozenset[Net] | None:
    """The networks a prefix list permits, if it permits only exact ones (no ge/le)."""
    key = name or ""
    if key not in policy.exact:
        entries = policy.prefix_lists.get(key)
        policy.exact[key] = (
            None
            if not entries or any(permit and ranged for permit, _, ranged in entries)
            else frozenset(net for permit, net, _ in entries if permit)
        )
    return policy.exact[key]


def _accepting(
    policy: _Policy, entry: _Entry, label: str, *, router: bool
) -> tuple[frozenset[Net], frozenset[Net], list[str]]:
    """One permitting entry of one family (its matches say which: ip or ipv6): the prefixes it
    lets in, via which next hops, and what is wrong with it."""
    matches, sets, problems = _called(policy, entry, label)
    ip = "ipv6" if "ipv6 address prefix-list" in matches else "ip"
    prefixes = _exact_permits(policy, matches.get(f"{ip} address prefix-list"))
    if prefixes is None:
        problems.append(f"{label} accepts routes without an exact prefix list")
    hops = _exact_permits(policy, matches.get(f"{ip} next-hop prefix-list"))
    if hops is None or any(h.prefixlen != h.max_prefixlen for h in hops):
        problems.append(f"{label} accepts any next hop")
    paths = policy.as_paths.get(matches.get("as-path") or "")
    if paths != [(True, policy.as_path)]:
        problems.append(f"{label} accepts routes with an AS path other than {policy.as_path}")
    if router and ip == "ipv6" and sets.pop("ipv6", None) != PREFER_GLOBAL["ipv6"]:
        problems.append(
            f"{label} lets an IPv6 route's link-local next hop win over the node's global one "
            "(over an IPv6 eBGP session it is the reflector's)"
        )
    if sets != RESET:
        problems.append(f"{label} keeps LOCAL_PREF, MED or communities as the speaker sent them")
    return prefixes or frozenset(), hops or frozenset(), problems


def _called(
    policy: _Policy, entry: _Entry, label: str
) -> tuple[dict[str, str], dict[str, str], list[str]]:
    """An entry's matches and sets with those of the route map it calls: FRR applies the
    entry's sets, then runs the called map, whose deny denies the route and whose sets come
    last. Only a called map of one permitting entry that calls no further is read; a call to a
    map that is not defined is skipped by FRR, which then accepts the route unchecked."""
    matches, sets = dict(entry.matches), dict(entry.sets)
    if entry.call is None:
        return matches, sets, []
    called = policy.route_maps.get(entry.call)
    if not called:
        return (
            matches,
            sets,
            [
                f"{label} calls route map {entry.call}, which is not defined "
                "(FRR skips the call and accepts the route unchecked)"
            ],
        )
    (_, callee), *more = called
    if more or not callee.permit or callee.call is not None:
        return (
            matches,
            sets,
            [
                f"{label} calls route map {entry.call}, which is not one "
                "permitting entry that calls no further"
            ],
        )
    problems = [
        f"{label} and the route map it calls both match {m}"
        for m in sorted(matches.keys() & callee.matches.keys())
    ]
    return matches | callee.matches, sets | callee.sets, problems
