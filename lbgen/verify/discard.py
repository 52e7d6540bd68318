"""Each router lbgen renders drops a service prefix that no LB announces (lbgen.render.frr's
discard routes): read back from its frr.conf (or the gobgp flavour's staticd.conf), and its
daemons file must start staticd, which installs them; a BIRD router's static unreachable routes
must lose to BGP's."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from ipaddress import ip_network

from lbgen.errors import Diagnostic, Position
from lbgen.plan import Plan, RouterPlan
from lbgen.verify.bird import BGP_PREFERENCE, bird_discards
from lbgen.verify.finding import broken
from lbgen.verify.frr import statements

# FRR's largest BGP administrative distance (iBGP and local routes: 200; eBGP: 20)
BGP_DISTANCE = 200


def _discards(text: str) -> dict[str, int]:
    """prefix → the distance of its reject route, for each `ip(v6) route P reject D`."""
    found = {}
    for _number, raw, words in statements(text):
        if raw.startswith(" ") or len(words) != 5 or words[0] not in ("ip", "ipv6"):
            continue
        if words[1] == "route" and words[3] == "reject" and words[4].isdigit():
            found[str(ip_network(words[2]))] = int(words[4])
    return found


def _missing(
    router: RouterPlan,
    file: str,
    found: dict[str, int],
    *,
    below_bgp: Callable[[int], bool],
    unit: str,
    want: str,
) -> Iterator[Diagnostic]:
    """A finding per service prefix whose discard route is missing, or not `below_bgp` (by its
    `unit`: FRR's distance, BIRD's preference)."""
    for prefix in map(str, router.prefixes):
        value = found.get(prefix)
        if value is None or not below_bgp(value):
            shown = "none" if value is None else f"one at {unit} {value}"
            yield broken(
                "LB212",
                Position(file, 1, 1),
                f"router {router.name} has {shown} for {prefix}: withdrawn, its traffic "
                f"would follow the default route (want {want})",
            )


def _router(router: RouterPlan, tree: dict[str, str]) -> Iterator[Diagnostic]:
    base = f"routers/{router.name}"
    if router.implementation == "external":
        return  # its contract's discard list, checked with the contract (verify.external)
    if router.implementation == "bird":
        file = f"{base}/bird.conf"
        yield from _missing(
            router,
            file,
            bird_discards(tree.get(file, "")),
            below_bgp=lambda preference: preference < BGP_PREFERENCE,
            unit="preference",
            want=f"`unreachable` at a preference below BGP's {BGP_PREFERENCE}",
        )
        return
    file = f"{base}/frr.conf" if router.implementation == "frr" else f"{base}/staticd.conf"
    yield from _missing(
        router,
        file,
        _discards(tree.get(file, "")),
        below_bgp=lambda distance: distance > BGP_DISTANCE,
        unit="distance",
        want=f"`reject` at a distance above {BGP_DISTANCE}",
    )
    daemons = tree.get(f"{base}/daemons")
    if daemons is not None and "staticd=yes" not in daemons.splitlines():
        yield broken(
            "LB212",
            Position(f"{base}/daemons", 1, 1),
            f"router {router.name}'s daemons file does not start staticd: its discard "
            "routes would never be installed",
        )


def check_discards(plan: Plan, tree: dict[str, str]) -> list[Diagnostic]:
    return [found for router in plan.routers for found in _router(router, tree)]
