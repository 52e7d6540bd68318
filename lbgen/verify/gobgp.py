"""Read the BGP speaker back out of a rendered gobgpd.yaml, and check its import policy."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network
from typing import Any

from lbgen.diagnostics import Diagnostic, SpecPath, broken
from lbgen.plan import Granting
from lbgen.verify.document import Rendered
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

# gobgpd's dry run accepts any afi-safi-name; the fabric carries the plan's families
# when it is dual-stack, and nothing else


def _get(data: Any, *keys: str | int) -> Any:
    for key in keys:
        if isinstance(data, dict) and isinstance(key, str):
            data = data.get(key)
        elif isinstance(data, list) and isinstance(key, int) and key < len(data):
            data = data[key]
        else:
            return None
    return data


def read_gobgp(doc: Rendered, kind: str, name: str, address: Address) -> Speaker:
    data = doc.data
    groups = {_get(g, "config", "peer-group-name"): g for g in data.get("peer-groups") or ()}
    neighbors = []
    for index, entry in enumerate(data.get("neighbors") or ()):
        neighbors.append(
            _neighbor(
                doc,
                ("neighbors", index),
                entry,
                ip_address(_get(entry, "config", "neighbor-address")),
            )
        )
    for index, entry in enumerate(data.get("dynamic-neighbors") or ()):
        group = groups.get(_get(entry, "config", "peer-group"), {})
        neighbors.append(
            _neighbor(
                doc,
                ("dynamic-neighbors", index),
                group,
                ip_network(_get(entry, "config", "prefix")),
            )
        )
    # use-multiple-paths hands every equal path to the RIB, in every family (eBGP: LB126)
    multipath = _get(data, "global", "use-multiple-paths", "config", "enabled") is True
    return Speaker(
        name=name,
        kind=kind,
        file=doc.name,
        address=address,
        asn=_get(data, "global", "config", "as"),
        where=partial(doc.position, ("global", "config", "as")),
        multipath={(f, False): 1_000_000 for f in FAMILIES.values()} if multipath else {},
        neighbors=tuple(neighbors),
    )


def _neighbor(doc: Rendered, path: SpecPath, entry: Any, peer: Address | Network) -> Neighbor:
    families = []
    send, receive = 0, False
    neighbor_paths = _get(entry, "add-paths", "config") or {}
    for family in _get(entry, "afi-safis") or ():
        families.append(_get(family, "config", "afi-safi-name"))
        paths = _get(family, "add-paths", "config") or neighbor_paths
        send = max(send, int(paths.get("send-max", 0)))
        receive = receive or paths.get("receive") is True
    return Neighbor(
        peer=peer,
        peer_as=_get(entry, "config", "peer-as"),
        where=partial(doc.position, path),
        passive=_get(entry, "transport", "config", "passive-mode") is True,
        families=tuple(str(f) for f in families),
        add_paths_send=send,
        add_paths_receive=receive,
        route_reflector_client=_get(entry, "route-reflector", "config", "route-reflector-client")
        is True,
    )


def check_families(doc: Rendered, allowed: tuple[str, ...]) -> Iterator[Diagnostic]:
    """Every afi-safi-name is one of the families the plan's sessions carry (gobgpd names)."""
    data = doc.data
    for section in ("neighbors", "peer-groups"):
        for index, entry in enumerate(data.get(section) or ()):
            for f_index, family in enumerate(_get(entry, "afi-safis") or ()):
                name = _get(family, "config", "afi-safi-name")
                if name not in allowed:
                    where = doc.position(
                        (section, index, "afi-safis", f_index, "config", "afi-safi-name")
                    )
                    yield broken(
                        "LB206",
                        where,
                        f"afi-safi-name {name!r} is not one the fabric "
                        f"uses ({', '.join(sorted(allowed))}); gobgpd would not say so",
                    )


# what an accepted route must carry whatever its speaker sent (written here again, apart from the
# renderer, so that a renderer that drifts is caught)
RESET = {
    "set-local-pref": 100,
    "set-med": "0",
    "set-community": {"options": "replace", "set-community-method": {"communities-list": []}},
}


Net = IPv4Network | IPv6Network


def check_import_policy(
    doc: Rendered, box: Granting, lb_range: Network | None
) -> Iterator[Diagnostic]:
    """Accept exactly the (service prefix, next hop) pairs the plan grants, from LB peers (at a
    reflector), with an empty AS path, resetting LOCAL_PREF, MED and communities."""
    data = doc.data
    apply = _get(data, "global", "apply-policy", "config") or {}
    where = partial(doc.position, ("global", "apply-policy"))
    if apply.get("default-import-policy") != "reject-route":
        yield broken(
            "LB207",
            where(),
            "the default import policy is not reject-route: routes no "
            "statement matches would be accepted",
        )
    defined = {p.get("name"): p for p in data.get("policy-definitions") or ()}
    prefix_sets = {
        s.get("prefix-set-name"): s for s in _get(data, "defined-sets", "prefix-sets") or ()
    }
    neighbor_sets = {
        s.get("neighbor-set-name"): s for s in _get(data, "defined-sets", "neighbor-sets") or ()
    }
    sets = group_sets(box.groups)
    accepted: Accepted = {}
    exact: dict[str, tuple[frozenset[Net], list[Net]]] = {}  # each prefix set read once
    for name in apply.get("import-policy-list") or ():
        if name not in defined:
            yield broken("LB207", where(), f"import policy {name!r} is not defined")
            continue
        for statement in defined[name].get("statements") or ():
            if _get(statement, "actions", "route-disposition") != "accept-route":
                continue
            prefixes, hops, problems = _accepting_statement(
                statement, prefix_sets, neighbor_sets, lb_range, exact
            )
            accept(accepted, prefixes, hops)
            for problem in problems:
                yield broken("LB207", partial(doc.position, ("policy-definitions",))(), problem)
    differ = differing(accepted, granted(sets, box.grants), Canonical(sets))
    if differ:
        yield broken(
            "LB207",
            where(),
            f"the routes the import policy accepts differ from the plan's grants at "
            f"{shown(differ)}",
        )


def _accepting_statement(
    statement: Any,
    prefix_sets: dict[Any, Any],
    neighbor_sets: dict[Any, Any],
    lb_range: Network | None,
    exact: dict[str, tuple[frozenset[Net], list[Net]]],
) -> tuple[frozenset[Net], list[Net], list[str]]:
    """The prefixes one accepting statement lets in, via which next hops, and what is wrong
    with it: a prefix set that is not exact, no LB peer limit, a non-empty AS path allowed,
    attributes not reset."""
    label = f"import statement {statement.get('name')!r}"
    conditions = statement.get("conditions") or {}
    problems = []
    match = conditions.get("match-prefix-set") or {}
    chosen = prefix_sets.get(match.get("prefix-set"))
    prefixes: frozenset[Net] = frozenset()
    if chosen is None or match.get("match-set-options", "any") != "any":
        problems.append(f"{label} accepts routes without matching a prefix set")
    else:
        prefixes, loose = _exact_set(chosen, exact)
        problems += [f"{label} accepts more-specifics of {net}" for net in loose]
    if lb_range is not None:
        match = conditions.get("match-neighbor-set") or {}
        chosen = neighbor_sets.get(match.get("neighbor-set"))
        peers = [ip_network(n) for n in (chosen or {}).get("neighbor-info-list") or ()]
        if (
            chosen is None
            or match.get("match-set-options", "any") != "any"
            or not peers
            or not all(
                p.version == lb_range.version and p.subnet_of(lb_range)  # type: ignore[arg-type]
                for p in peers
            )
        ):
            problems.append(f"{label} does not limit the accepted routes to LB peers in {lb_range}")
    bgp = conditions.get("bgp-conditions") or {}
    hops = [ip_network(h) for h in bgp.get("next-hop-in-list") or ()]
    if not hops:
        problems.append(f"{label} accepts any next hop")
    if bgp.get("as-path-length") != {"operator": "eq", "value": 0}:
        problems.append(f"{label} accepts routes with a non-empty AS path")
    if _get(statement, "actions", "bgp-actions") != RESET:
        problems.append(f"{label} keeps LOCAL_PREF, MED or communities as the speaker sent them")
    return prefixes, hops, problems


def _exact_set(
    chosen: Any, exact: dict[str, tuple[frozenset[Net], list[Net]]]
) -> tuple[frozenset[Net], list[Net]]:
    """A prefix set's networks, and those it also takes more-specifics of (read once a set)."""
    name = str(chosen.get("prefix-set-name"))
    if name not in exact:
        nets, loose = [], []
        for entry in chosen.get("prefix-list") or ():
            net = ip_network(entry.get("ip-prefix"))
            length = f"{net.prefixlen}..{net.prefixlen}"
            if entry.get("masklength-range", length) != length:
                loose.append(net)
            nets.append(net)
        exact[name] = (frozenset(nets), loose)
    return exact[name]


def check_lbs_get_nothing(doc: Rendered, lb_range: Network | None) -> Iterator[Diagnostic]:
    """A reflector sends routes to its routers only, never to its LB pods: the default export
    policy rejects, and each accepting export statement names, by its neighbour set alone,
    router addresses (gobgpd's export policy is global; its neighbour condition names the peer
    a route is sent to)."""
    if lb_range is None:
        return
    data = doc.data
    apply = _get(data, "global", "apply-policy", "config") or {}
    where = partial(doc.position, ("global", "apply-policy"))  # only when there is a finding
    if apply.get("default-export-policy") != "reject-route":
        yield broken(
            "LB213",
            where(),
            f"LB peers in {lb_range} would be sent routes: the default export policy is not "
            "reject-route",
        )
    defined = {p.get("name"): p for p in data.get("policy-definitions") or ()}
    neighbor_sets = {
        s.get("neighbor-set-name"): s for s in _get(data, "defined-sets", "neighbor-sets") or ()
    }
    routers = {
        ip_address(str(_get(n, "config", "neighbor-address"))) for n in data.get("neighbors") or ()
    }
    served: set[Address] = set()
    for name in apply.get("export-policy-list") or ():
        for statement in _get(defined.get(name), "statements") or ():
            if _get(statement, "actions", "route-disposition") == "reject-route":
                continue
            conditions = statement.get("conditions") or {}
            match = conditions.get("match-neighbor-set") or {}
            chosen = neighbor_sets.get(match.get("neighbor-set")) or {}
            nets = _networks(chosen.get("neighbor-info-list"))
            hosts = {n.network_address for n in nets if n.prefixlen == n.max_prefixlen}
            if (
                set(conditions) != {"match-neighbor-set"}
                or match.get("match-set-options", "any") != "any"
                or len(hosts) != len(nets)
                or not hosts <= routers
            ):
                yield broken(
                    "LB213",
                    where(),
                    f"LB peers in {lb_range} could be sent routes: export statement "
                    f"{statement.get('name')!r} accepts towards peers other than the routers",
                )
            served |= hosts
    starved = sorted(str(r) for r in routers - served)
    if starved and apply.get("default-export-policy") == "reject-route":
        yield broken("LB213", where(), f"no export statement sends {', '.join(starved)} any route")


def _networks(listed: Any) -> list[Net]:
    found: list[Net] = []
    for entry in listed or ():
        try:
            found.append(ip_network(str(entry), strict=False))
        except ValueError:
            continue
    return found
