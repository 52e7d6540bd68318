"""Read the BGP speaker back out of a rendered gobgpd.yaml, and check its import policy."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from ipaddress import IPv4Address, IPv4Network
from typing import Any

from lbgen.errors import Diagnostic, SpecPath
from lbgen.source import Document
from lbgen.verify.finding import broken
from lbgen.verify.speaker import Neighbor, Speaker

# gobgpd's dry run accepts any afi-safi-name; the fabric carries IPv4 unicast and nothing else
FAMILIES = frozenset({"ipv4-unicast"})


def _get(data: Any, *keys: str | int) -> Any:
    for key in keys:
        if isinstance(data, dict) and isinstance(key, str):
            data = data.get(key)
        elif isinstance(data, list) and isinstance(key, int) and key < len(data):
            data = data[key]
        else:
            return None
    return data


def read_gobgp(doc: Document, kind: str, name: str, address: IPv4Address) -> Speaker:
    data = doc.data
    groups = {_get(g, "config", "peer-group-name"): g for g in data.get("peer-groups") or ()}
    neighbors = []
    for index, entry in enumerate(data.get("neighbors") or ()):
        neighbors.append(
            _neighbor(
                doc,
                ("neighbors", index),
                entry,
                IPv4Address(_get(entry, "config", "neighbor-address")),
            )
        )
    for index, entry in enumerate(data.get("dynamic-neighbors") or ()):
        group = groups.get(_get(entry, "config", "peer-group"), {})
        neighbors.append(
            _neighbor(
                doc,
                ("dynamic-neighbors", index),
                group,
                IPv4Network(_get(entry, "config", "prefix")),
            )
        )
    multipath = _get(data, "global", "use-multiple-paths", "config", "enabled") is True
    return Speaker(
        name=name,
        kind=kind,
        file=doc.name,
        address=address,
        asn=_get(data, "global", "config", "as"),
        where=partial(doc.position, ("global", "config", "as")),
        multipath=1_000_000 if multipath else 1,
        neighbors=tuple(neighbors),
    )


def _neighbor(
    doc: Document, path: SpecPath, entry: Any, peer: IPv4Address | IPv4Network
) -> Neighbor:
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


def check_families(doc: Document) -> Iterator[Diagnostic]:
    data = doc.data
    for section in ("neighbors", "peer-groups"):
        for index, entry in enumerate(data.get(section) or ()):
            for f_index, family in enumerate(_get(entry, "afi-safis") or ()):
                name = _get(family, "config", "afi-safi-name")
                if name not in FAMILIES:
                    where = doc.position(
                        (section, index, "afi-safis", f_index, "config", "afi-safi-name")
                    )
                    yield broken(
                        "LB206",
                        where,
                        f"afi-safi-name {name!r} is not one the fabric "
                        f"uses ({', '.join(sorted(FAMILIES))}); gobgpd would not say so",
                    )


def check_import_policy(
    doc: Document,
    prefixes: tuple[IPv4Network, ...],
    lb_range: IPv4Network | None,
    node_network: IPv4Network | None,
) -> Iterator[Diagnostic]:
    """Accept only the service prefixes, exactly; from LBs only with a next hop on a node."""
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
    accepting = []
    for name in apply.get("import-policy-list") or ():
        if name not in defined:
            yield broken("LB207", where(), f"import policy {name!r} is not defined")
            continue
        for statement in defined[name].get("statements") or ():
            if _get(statement, "actions", "route-disposition") == "accept-route":
                accepting.append(statement)
    if prefixes and not accepting:
        yield broken(
            "LB207",
            where(),
            "no import statement accepts the service prefixes: every LB route would be rejected",
        )
    for statement in accepting:
        yield from _accepting_statement(
            doc, statement, prefix_sets, neighbor_sets, prefixes, lb_range, node_network
        )


def _accepting_statement(  # noqa: PLR0917 -- one statement against each fact it must encode
    doc: Document,
    statement: Any,
    prefix_sets: dict[Any, Any],
    neighbor_sets: dict[Any, Any],
    prefixes: tuple[IPv4Network, ...],
    lb_range: IPv4Network | None,
    node_network: IPv4Network | None,
) -> Iterator[Diagnostic]:
    where = partial(doc.position, ("policy-definitions",))
    label = f"import statement {statement.get('name')!r}"
    conditions = statement.get("conditions") or {}
    match = conditions.get("match-prefix-set") or {}
    chosen = prefix_sets.get(match.get("prefix-set"))
    if chosen is None or match.get("match-set-options", "any") != "any":
        yield broken(
            "LB207", where(), f"{label} accepts routes without matching the service prefix set"
        )
    else:
        listed = set()
        for entry in chosen.get("prefix-list") or ():
            net = IPv4Network(entry.get("ip-prefix"))
            exact = f"{net.prefixlen}..{net.prefixlen}"
            if entry.get("masklength-range", exact) != exact:
                yield broken("LB207", where(), f"{label} accepts more-specifics of {net}")
            listed.add(net)
        if listed != set(prefixes):
            shown = ", ".join(str(p) for p in sorted(listed ^ set(prefixes)))
            yield broken(
                "LB207",
                where(),
                f"{label}: the accepted prefixes differ from the services' prefixes at {shown}",
            )
    if lb_range is not None:
        match = conditions.get("match-neighbor-set") or {}
        chosen = neighbor_sets.get(match.get("neighbor-set"))
        if (
            chosen is None
            or match.get("match-set-options", "any") != "any"
            or [str(n) for n in chosen.get("neighbor-info-list") or ()] != [str(lb_range)]
        ):
            yield broken(
                "LB207",
                where(),
                f"{label} does not limit the accepted routes to LB peers in {lb_range}",
            )
    if node_network is not None:
        hops = _get(conditions, "bgp-conditions", "next-hop-in-list") or []
        if [str(h) for h in hops] != [str(node_network)]:
            yield broken(
                "LB207",
                where(),
                f"{label} does not require a next hop inside the node network {node_network}",
            )
