"""Each router lbgen renders drops a service prefix that no LB announces (its discard routes):
read back from the file its implementation keeps them in, each below BGP by that daemon's
measure (FRR's reject routes at a distance above BGP's; BIRD's unreachable routes at a
preference below BGP's), and, where a daemons file starts them, started."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from ipaddress import ip_network

from lbgen.diagnostics import Diagnostic, Position, broken
from lbgen.plan import RouterPlan
from lbgen.verify.bird import BGP_PREFERENCE, bird_discards
from lbgen.verify.frr import statements

# FRR's largest BGP administrative distance (iBGP and local routes: 200; eBGP: 20)
BGP_DISTANCE = 200


@dataclass(frozen=True)
class DiscardRule:
    """Where a router's discard routes are and how each must lose to BGP."""

    file: str  # in the router's folder
    read: Callable[[str], dict[str, int]]  # prefix → its distance or preference
    below_bgp: Callable[[int], bool]
    unit: str  # distance | preference
    want: str  # what a good one is, in words
    daemons: str | None = None  # the daemons file that must start staticd, which installs them


def frr_rejects(file: str, daemons: str | None = None) -> DiscardRule:
    """FRR's `ip(v6) route P reject D` lines in `file`, D above BGP's distance; `daemons`: the
    file whose staticd=yes installs them (none where FRR's init is not lbgen's to render)."""
    return DiscardRule(
        file,
        _rejects,
        lambda distance: distance > BGP_DISTANCE,
        "distance",
        f"`reject` at a distance above {BGP_DISTANCE}",
        daemons,
    )


def bird_unreachables(file: str) -> DiscardRule:
    """BIRD's static `route P unreachable` at a preference below BGP's."""
    return DiscardRule(
        file,
        bird_discards,
        lambda preference: preference < BGP_PREFERENCE,
        "preference",
        f"`unreachable` at a preference below BGP's {BGP_PREFERENCE}",
    )


def _rejects(text: str) -> dict[str, int]:
    """prefix → the distance of its reject route, for each `ip(v6) route P reject D`."""
    found = {}
    for _number, raw, words in statements(text):
        if raw.startswith(" ") or len(words) != 5 or words[0] not in ("ip", "ipv6"):
            continue
        if words[1] == "route" and words[3] == "reject" and words[4].isdigit():
            found[str(ip_network(words[2]))] = int(words[4])
    return found


def _router(
    router: RouterPlan, folder: str, rule: DiscardRule, tree: dict[str, str]
) -> Iterator[Diagnostic]:
    """A finding per service prefix whose discard route is missing or not below BGP, and one
    when its daemons file would not start what installs them."""
    file = f"{folder}/{rule.file}"
    found = rule.read(tree.get(file, ""))
    for prefix in map(str, router.prefixes):
        value = found.get(prefix)
        if value is None or not rule.below_bgp(value):
            shown = "none" if value is None else f"one at {rule.unit} {value}"
            yield broken(
                "LB212",
                Position(file, 1, 1),
                f"router {router.name} has {shown} for {prefix}: withdrawn, its traffic "
                f"would follow the default route (want {rule.want})",
            )
    daemons = tree.get(f"{folder}/{rule.daemons}") if rule.daemons else None
    if daemons is not None and "staticd=yes" not in daemons.splitlines():
        yield broken(
            "LB212",
            Position(f"{folder}/{rule.daemons}", 1, 1),
            f"router {router.name}'s daemons file does not start staticd: its discard "
            "routes would never be installed",
        )


def check_discards(
    routers: Iterable[tuple[RouterPlan, str, DiscardRule]], tree: dict[str, str]
) -> list[Diagnostic]:
    """Each (router, its folder, its rule)."""
    return [found for r, folder, rule in routers for found in _router(r, folder, rule, tree)]
