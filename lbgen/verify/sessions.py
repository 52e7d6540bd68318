"""Session compatibility across boxes: every session the plan implies has two matching ends."""

from __future__ import annotations

from collections.abc import Iterator
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

from lbgen.diagnostics import Diagnostic, broken
from lbgen.plan import Plan
from lbgen.verify.speaker import FAMILIES, Neighbor, Speaker


def families(plan: Plan) -> tuple[str, ...]:
    """What every session carries (gobgpd's names): the plan's families."""
    return tuple(FAMILIES[family] for family in plan.families)


def check_sessions(plan: Plan, speakers: list[Speaker]) -> Iterator[Diagnostic]:
    by_name = {(s.kind, s.name): s for s in speakers}
    carried = families(plan)
    most_lbs = max((s.replicas for s in plan.services), default=1)
    for router in plan.routers:
        for rr in plan.reflectors:
            a, b = by_name.get(("router", router.name)), by_name.get(("reflector", rr.name))
            if a is None or b is None:
                continue
            yield from _pair(a, b, carried)
            up, down = _statement(b, a.address), _statement(a, b.address)
            if up is not None and down is not None:
                yield from _add_paths(b, up, a, down, most_lbs)
            if up is not None and router.ebgp and not up.next_hop_unchanged:
                yield broken(
                    "LB211",
                    up.where(),
                    f"reflector {rr.name} would make itself the next hop towards router "
                    f"{router.name} (eBGP): every path would lead to the reflector, not an LB",
                )
    ebgp = {r.name for r in plan.routers if r.ebgp}
    for speaker in speakers:
        for family in carried:
            width = speaker.width(family, ebgp=speaker.name in ebgp)
            if speaker.kind == "router" and width < most_lbs:
                yield broken(
                    "LB205",
                    speaker.where(),
                    f"router {speaker.name} installs {width} path(s) per {family} "
                    f"prefix but a service has {most_lbs} LBs: ECMP would leave LBs idle",
                )
        yield from _unexpected(plan, speaker)
    for rr in plan.reflectors:
        reflector = by_name.get(("reflector", rr.name))
        if reflector is not None:
            yield from _lb_peers(plan, reflector, carried)


def _statement(speaker: Speaker, address: IPv4Address | IPv6Address) -> Neighbor | None:
    return next((n for n in speaker.neighbors if n.covers(address)), None)


def _pair(a: Speaker, b: Speaker, carried: tuple[str, ...]) -> Iterator[Diagnostic]:
    there, back = _statement(a, b.address), _statement(b, a.address)
    for speaker, statement, other in ((a, there, b), (b, back, a)):
        if statement is None:
            yield broken(
                "LB201",
                speaker.where(),
                f"{speaker.kind} {speaker.name} has no neighbour for {other.kind} "
                f"{other.name} ({other.address}): that session has one end only",
            )
        elif statement.peer_as != other.asn:
            yield broken(
                "LB202",
                statement.where(),
                f"{speaker.kind} {speaker.name} expects AS {statement.peer_as} from "
                f"{other.name}, which speaks AS {other.asn}",
            )
    if there is None or back is None:
        return
    if there.passive and back.passive:
        yield broken(
            "LB203",
            there.where(),
            f"both ends of {a.name}–{b.name} are passive: neither opens the session",
        )
    for family in carried:
        if family not in there.families or family not in back.families:
            yield broken(
                "LB206", there.where(), f"{a.name}–{b.name} does not carry {family} on both ends"
            )
    if there.ttl_security_hops != back.ttl_security_hops:
        yield broken(
            "LB210",
            there.where(),
            f"GTSM on {a.name}–{b.name} differs between its ends ({there.ttl_security_hops} "
            f"vs {back.ttl_security_hops} hops): the end without it sends TTLs the other drops",
        )


def _add_paths(
    rr: Speaker, up: Neighbor, router: Speaker, down: Neighbor, most_lbs: int
) -> Iterator[Diagnostic]:
    if up.add_paths_send < most_lbs:
        yield broken(
            "LB204",
            up.where(),
            f"reflector {rr.name} sends {up.add_paths_send} path(s) per prefix to "
            f"{router.name}, fewer than the {most_lbs} LBs of the largest service",
        )
    if most_lbs > 1 and not down.add_paths_receive:
        yield broken(
            "LB204",
            down.where(),
            f"router {router.name} does not receive add-paths from {rr.name}: "
            "it would learn only one LB per prefix",
        )


def _lb_peers(plan: Plan, rr: Speaker, carried: tuple[str, ...]) -> Iterator[Diagnostic]:
    """LB pods (exabgp, always the active side) dial every reflector from the pod network:
    from wherever a grant says an LB may be, a dynamic range must take them in."""
    ranges = [(n.peer, n) for n in rr.neighbors if isinstance(n.peer, IPv4Network | IPv6Network)]
    plan_rr = next(r for r in plan.reflectors if r.name == rr.name)
    by_net: dict[IPv4Network | IPv6Network, Neighbor] = {}
    for net, n in ranges:
        by_net.setdefault(net, n)
    for peers in sorted({grant.peers for grant in plan_rr.grants}, key=str):
        # a pod lands in the most specific range that holds it
        covering = next(
            (
                by_net[net]
                for length in range(peers.prefixlen, -1, -1)
                if (net := peers.supernet(new_prefix=length)) in by_net
            ),
            None,
        )
        if covering is None:
            yield broken(
                "LB201",
                rr.where(),
                f"reflector {rr.name} accepts no dynamic neighbours covering {peers}, "
                "where LB pods peer from",
            )
            continue
        yield from _lb_range(plan, rr, covering, carried)


def _lb_range(
    plan: Plan, rr: Speaker, covering: Neighbor, carried: tuple[str, ...]
) -> Iterator[Diagnostic]:
    if covering.peer_as != plan.asn:
        yield broken(
            "LB202",
            covering.where(),
            f"reflector {rr.name} expects AS {covering.peer_as} from LB pods, "
            f"which speak AS {plan.asn}",
        )
    if not covering.route_reflector_client:
        yield broken(
            "LB208",
            covering.where(),
            f"LB peers of {rr.name} are not route-reflector clients: their iBGP routes "
            "would not be reflected to the routers",
        )
    for family in carried:
        if family not in covering.families:
            yield broken("LB206", covering.where(), f"LB peers of {rr.name} do not carry {family}")


def _unexpected(plan: Plan, speaker: Speaker) -> Iterator[Diagnostic]:
    known = {r.address for r in plan.routers} | {r.address for r in plan.reflectors}
    for statement in speaker.neighbors:
        if isinstance(statement.peer, IPv4Address | IPv6Address) and statement.peer not in known:
            yield broken(
                "LB201",
                statement.where(),
                f"{speaker.kind} {speaker.name} has a neighbour {statement.peer} that "
                "is no router or reflector of the fabric",
            )
