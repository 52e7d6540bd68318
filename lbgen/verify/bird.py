"""Read a rendered BIRD 2 bird.conf back (the subset lbgen writes): the router's BGP speaker,
its import filters against the plan's grants, and its discard routes. A statement of a filter
this reader does not know is a finding: it could accept what the plan does not grant."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from ipaddress import ip_address, ip_network

from lbgen.diagnostics import Diagnostic, Position, broken
from lbgen.plan import Granting
from lbgen.verify.speaker import (
    FAMILIES,
    Accepted,
    Address,
    Canonical,
    Neighbor,
    Network,
    Speaker,
    accept,
    differing,
    granted,
    group_sets,
    shown,
)

# what an accepted route must carry (written apart from the template, so a drift is caught)
RESET = {
    "bgp_local_pref": "100",
    "bgp_med": "0",
    "bgp_community": "-empty-",
    "bgp_ext_community": "--empty--",
    "bgp_large_community": "---empty---",
}
# BIRD's preference of BGP routes: a discard route must be below it
BGP_PREFERENCE = 100

_DEFINE = re.compile(r"define (\w+) = \[ (.*) \];")
_BLOCK = re.compile(r"(protocol (\w+)|filter|function) (\w+)(\(\))? \{")
_EMPTY_PATH = "if bgp_path.len != 0 then reject;"
_ONE_AS = re.compile(r"if bgp_path.len != 1 \|\| bgp_path.first != (\d+) then reject;")
_ACCEPT = re.compile(
    r"if net ~ (\w+) && bgp_next_hop ~ (\w+) then \{ (lbgen_reset\(\); )?accept; \}"
)


@dataclass
class _Session:
    line: int
    name: str
    local: tuple[str, int] | None = None
    neighbor: tuple[str, int] | None = None
    gtsm: bool = False
    # channel (ipv4, ipv6) → its import filter, add paths rx, export none, line
    imports: dict[str, str] = field(default_factory=dict)
    add_paths: set[str] = field(default_factory=set)
    exports: dict[str, str] = field(default_factory=dict)


@dataclass
class _Filter:
    line: int
    as_path: tuple[int, ...] | None = None  # None: no AS-path statement (any path)
    accepts: list[tuple[str, str, bool, int]] = field(default_factory=list)  # set, hops, reset
    ends_in_reject: bool = False
    unknown: list[int] = field(default_factory=list)


@dataclass
class _Bird:
    defines: dict[str, tuple[str, int]] = field(default_factory=dict)
    sessions: list[_Session] = field(default_factory=list)
    filters: dict[str, _Filter] = field(default_factory=dict)
    reset: dict[str, str] = field(default_factory=dict)
    merge: dict[str, int] = field(default_factory=dict)  # kernel channel → merge paths limit
    discards: dict[str, int] = field(default_factory=dict)  # prefix → its static preference
    sets: dict[str, frozenset[Network] | None] = field(default_factory=dict)  # read once each


@dataclass
class _Block:
    """The block a line is in, as the reader walks bird.conf."""

    kind: str  # bgp, kernel, static, device, filter, function
    name: str
    channel: str = ""  # the channel block (ipv4, ipv6) a line is in
    session: _Session | None = None
    rule: _Filter | None = None
    preference: int = BGP_PREFERENCE  # a static protocol's
    static: list[str] = field(default_factory=list)


def _read(text: str) -> _Bird:
    bird = _Bird()
    block: _Block | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if block is None:
            block = _top_line(bird, line, number)
        elif line == "}":
            if block.kind == "static":
                bird.discards.update(dict.fromkeys(block.static, block.preference))
            block = None
        else:
            _block_line(bird, block, line, number)
    return bird


def _top_line(bird: _Bird, line: str, number: int) -> _Block | None:
    """A line outside any block: a set, the router id, or a block's start."""
    if (found := _DEFINE.fullmatch(line)) is not None:
        bird.defines[found[1]] = (found[2], number)
    elif (found := _BLOCK.fullmatch(line)) is not None:
        block = _Block(found[2] or found[1], found[3])
        if block.kind == "bgp":
            block.session = _Session(number, block.name)
            bird.sessions.append(block.session)
        elif block.kind == "filter":
            block.rule = bird.filters[block.name] = _Filter(number)
        return block
    return None


def _block_line(bird: _Bird, block: _Block, line: str, number: int) -> None:
    if (found := re.match(r"(ipv[46]) \{", line)) is not None:
        block.channel = found[1]
        line = line[found.end() :].strip()
        if not line:
            return
    if line == "};":
        block.channel = ""
        return
    if block.session is not None:
        _session_line(block.session, block.channel, line)
    elif block.rule is not None:
        _filter_line(block.rule, line, number)
    elif block.kind == "function" and block.name == "lbgen_reset":
        key, _, value = line.rstrip(";").partition(" = ")
        bird.reset[key] = value
    elif block.kind == "kernel" and line.startswith("merge paths on limit ") and block.channel:
        bird.merge[block.channel] = int(line.removeprefix("merge paths on limit ").rstrip(";"))
    elif block.kind == "static":
        if (found := re.fullmatch(r"preference (\d+); \};", line)) is not None:
            block.preference = int(found[1])
        elif (found := re.fullmatch(r"route (\S+) unreachable;", line)) is not None:
            block.static.append(str(ip_network(found[1])))


def _session_line(session: _Session, channel: str, line: str) -> None:
    words = line.rstrip(";").split()
    if words[:1] == ["local"] and words[2:3] == ["as"]:
        session.local = (words[1], int(words[3]))
    elif words[:1] == ["neighbor"] and words[2:3] == ["as"]:
        session.neighbor = (words[1], int(words[3]))
    elif line == "ttl security on;":
        session.gtsm = True
    elif channel and words[:2] == ["import", "filter"]:
        session.imports[channel] = words[2]
    elif channel and words[:1] == ["import"]:
        session.imports[channel] = " ".join(words)  # import all, import where ...: unread
    elif channel and line == "add paths rx;":
        session.add_paths.add(channel)
    elif channel and words[:1] == ["export"]:
        session.exports[channel] = " ".join(words[1:])


def _filter_line(rule: _Filter, line: str, number: int) -> None:
    if line == _EMPTY_PATH:
        rule.as_path = ()
    elif (found := _ONE_AS.fullmatch(line)) is not None:
        rule.as_path = (int(found[1]),)
    elif (found := _ACCEPT.fullmatch(line)) is not None:
        rule.accepts.append((found[1], found[2], found[3] is not None, number))
    elif line == "reject;":
        rule.ends_in_reject = True
    else:
        rule.unknown.append(number)


def read_bird(text: str, file: str, name: str, address: Address, ebgp: bool) -> Speaker:
    bird = _read(text)
    multipath = {(FAMILIES[f], ebgp): n for f, n in bird.merge.items()}
    neighbors = []
    for s in bird.sessions:
        if s.neighbor is None:
            continue
        channels = sorted(s.imports)
        neighbors.append(
            Neighbor(
                peer=ip_address(s.neighbor[0]),
                peer_as=s.neighbor[1],
                where=partial(Position, file, s.line, 1),
                families=tuple(FAMILIES[c] for c in channels),
                add_paths_receive=bool(channels) and set(channels) <= s.add_paths,
                # lbgen renders BIRD's sessions direct: GTSM on means one hop
                ttl_security_hops=1 if s.gtsm else None,
            )
        )
    local = {s.local[1] for s in bird.sessions if s.local is not None}
    return Speaker(
        name=name,
        kind="router",
        file=file,
        address=address,
        asn=local.pop() if len(local) == 1 else None,
        where=partial(Position, file, 1, 1),
        multipath=multipath,
        neighbors=tuple(neighbors),
    )


def _set(bird: _Bird, name: str) -> frozenset[Network] | None:
    """The networks a defined set lists (addresses as host networks); None if not defined.
    Read once each and kept: Canonical knows a set read by its identity."""
    if name not in bird.sets:
        found = bird.defines.get(name)
        bird.sets[name] = (
            None
            if found is None
            else frozenset(ip_network(item.strip()) for item in found[0].split(","))
        )
    return bird.sets[name]


def check_bird_import_policy(
    text: str, file: str, box: Granting, as_path: tuple[int, ...]
) -> Iterator[Diagnostic]:
    """Each session's import filter of each channel accepts exactly the granted (prefix, next
    hop) pairs, with `as_path` only, resetting LOCAL_PREF, MED and communities, else rejects."""
    bird = _read(text)
    sets = group_sets(box.groups)
    canonical = Canonical(sets)
    wanted = granted(sets, box.grants)
    if bird.reset != RESET:
        yield broken(
            "LB207",
            Position(file, 1, 1),
            "function lbgen_reset does not reset LOCAL_PREF, MED and every community",
        )
    for session in bird.sessions:
        where = Position(file, session.line, 1)
        for channel in ("ipv4", "ipv6"):
            name = session.imports.get(channel)
            if name is None:
                continue
            if session.exports.get(channel) != "none":
                yield broken("LB207", where, f"session {session.name} exports routes on {channel}")
            rule = bird.filters.get(name)
            if rule is None:
                yield broken(
                    "LB207",
                    where,
                    f"session {session.name} imports {channel} routes by `{name}`, not a "
                    "filter lbgen wrote: everything it is sent could be accepted",
                )
                continue
            yield from _compare(
                bird,
                rule,
                name,
                file,
                wanted=wanted,
                canonical=canonical,
                as_path=as_path,
                channel=channel,
            )


def _compare(
    bird: _Bird,
    rule: _Filter,
    name: str,
    file: str,
    *,
    wanted: Accepted,
    canonical: Canonical,
    as_path: tuple[int, ...],
    channel: str,
) -> Iterator[Diagnostic]:
    where = Position(file, rule.line, 1)
    for line in rule.unknown:
        yield broken(
            "LB207", Position(file, line, 1), f"filter {name}: a statement lbgen never writes"
        )
    if not rule.ends_in_reject:
        yield broken("LB207", where, f"filter {name} does not end by rejecting what is left")
    if rule.as_path != as_path:
        yield broken(
            "LB207",
            where,
            f"filter {name} accepts routes with an AS path other than "
            f"{' '.join(map(str, as_path)) or 'the empty one'}",
        )
    version = 4 if channel == "ipv4" else 6
    accepted: Accepted = {}
    for prefixes_name, hops_name, reset, line in rule.accepts:
        prefixes, hops = _set(bird, prefixes_name), _set(bird, hops_name)
        if not reset:
            yield broken(
                "LB207",
                Position(file, line, 1),
                f"filter {name} keeps LOCAL_PREF, MED or communities as the speaker sent them",
            )
        if prefixes is None or hops is None:
            yield broken("LB207", Position(file, line, 1), f"filter {name} names an undefined set")
            continue
        if any(h.prefixlen != h.max_prefixlen for h in hops) or any(
            p.version != version for p in (*prefixes, *hops)
        ):
            yield broken(
                "LB207",
                Position(file, line, 1),
                f"filter {name} accepts a next hop range or another family's routes",
            )
            continue
        accept(accepted, prefixes, hops)
    mine = {h: p for h, p in wanted.items() if h.version == version}
    differ = differing(accepted, mine, canonical)
    if differ:
        yield broken(
            "LB207",
            where,
            f"the routes filter {name} accepts differ from the plan's grants at {shown(differ)}",
        )


def bird_discards(text: str) -> dict[str, int]:
    """prefix → the preference of its static unreachable route."""
    return _read(text).discards
