"""LB110–LB116, LB124–LB126, LB130, LB133–LB134: AS number, timers, ECMP width,
implementations, the options each takes, and what each can secure."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from operator import attrgetter
from typing import Any

from pydantic.alias_generators import to_camel

from lbgen.diagnostics import Diagnostic, Severity, SpecPath, finding
from lbgen.implementations import REFLECTORS, ROUTERS
from lbgen.implementations.description import Implementation, Refusal, Takes
from lbgen.spec import Fabric, Router

# gobgpd's zebra client settings: what takes.zebra_options allows
ZEBRA_OPTIONS = ("zebra_version", "zebra_software", "zebra_socket")
Able = Callable[[Takes], bool]
SECURED: Able = attrgetter("secured")
EBGP: Able = attrgetter("ebgp")

RESERVED_ASNS = {0: "reserved", 23456: "AS_TRANS", 65535: "reserved", 4_294_967_295: "reserved"}
PRIVATE_ASNS = ((64512, 65534), (4_200_000_000, 4_294_967_294))
DOCUMENTATION_ASNS = ((64496, 64511), (65536, 65551))


def check(fabric: Fabric) -> Iterator[Diagnostic]:
    yield from _asn(fabric.spec.asn, ("spec", "asn"))
    for index, router in enumerate(fabric.spec.routers):
        if router.asn is not None:
            yield from _asn(router.asn, ("spec", "routers", index, "asn"))
    yield from _ebgp(fabric)
    yield from _timers(fabric)
    yield from _ecmp_width(fabric)
    yield from _implementations(fabric)
    yield from _authentication(fabric)


def _asn(asn: int, path: SpecPath) -> Iterator[Diagnostic]:
    if asn in RESERVED_ASNS:
        yield finding(
            "LB114",
            path,
            f"AS {asn} is {RESERVED_ASNS[asn]} and cannot be used",
            "use a private AS: 64512–65534 or 4200000000–4294967294",
            severity=Severity.ERROR,
        )
    elif any(lo <= asn <= hi for lo, hi in DOCUMENTATION_ASNS):
        yield finding(
            "LB114",
            path,
            f"AS {asn} is reserved for documentation (RFC 5398)",
            "use a private AS: 64512–65534 or 4200000000–4294967294",
            severity=Severity.WARNING,
        )
    elif not any(lo <= asn <= hi for lo, hi in PRIVATE_ASNS):
        yield finding(
            "LB114",
            path,
            f"AS {asn} is a public AS number",
            "use it only if it is yours; an internal fabric normally uses a private AS",
            severity=Severity.WARNING,
        )


def _timers(fabric: Fabric) -> Iterator[Diagnostic]:
    timers = fabric.spec.bgp
    hold, keepalive = timers.hold_time, timers.keepalive
    if 0 < hold < 3:
        yield finding(
            "LB110",
            ("spec", "bgp", "holdTime"),
            f"hold time {hold} s is not allowed (RFC 4271)",
            "use 0 (no keepalives) or at least 3 seconds",
        )
    elif hold == 0 and keepalive != 0:
        yield finding(
            "LB110",
            ("spec", "bgp", "keepalive"),
            f"keepalive {keepalive} s with hold time 0: keepalives are off when the hold time is 0",
            "set keepalive to 0 too, or use a hold time of at least 3",
        )
    elif hold > 0 and keepalive == 0:
        yield finding(
            "LB110",
            ("spec", "bgp", "keepalive"),
            f"keepalive 0 with hold time {hold} s: the sessions would expire",
            f"use a keepalive of at most {hold // 3} s",
        )
    elif hold > 0 and keepalive >= hold:
        yield finding(
            "LB110",
            ("spec", "bgp", "keepalive"),
            f"keepalive {keepalive} s is not shorter than the hold time {hold} s",
            f"use a keepalive of at most {hold // 3} s",
        )
    elif hold > 0 and keepalive * 3 > hold:
        yield finding(
            "LB111",
            ("spec", "bgp", "keepalive"),
            f"keepalive {keepalive} s is more than a third of the hold time {hold} s: "
            "one lost keepalive may drop a session",
            f"use a keepalive of at most {hold // 3} s",
        )


def _ecmp_width(fabric: Fabric) -> Iterator[Diagnostic]:
    for s_index, service in enumerate(fabric.spec.services):
        replicas = service.load_balancers.replicas
        for r_index, router in enumerate(fabric.spec.routers):
            if replicas > router.max_paths:
                yield finding(
                    "LB116",
                    ("spec", "services", s_index, "loadBalancers", "replicas"),
                    f"{replicas} LBs but router {router.name} installs at most "
                    f"{router.max_paths} ECMP paths: {replicas - router.max_paths} would idle",
                    f"raise routers[{r_index}].maxPaths to {replicas} or lower the replicas",
                    ("spec", "routers", r_index, "maxPaths"),
                )


def _options(index: int, router: Router) -> Iterator[Diagnostic]:
    """What a router's implementation cannot take (its description's `takes`): zebra's
    settings off gobgp, resilientEcmp where nothing runs, via: zebra where there is no zebra,
    GTSM beyond the hops its sessions allow."""
    path = ("spec", "routers", index)
    implementation = ROUTERS[router.implementation]
    takes = implementation.takes
    if not takes.zebra_options:
        which = " or ".join(n for n, i in ROUTERS.items() if i.takes.zebra_options)
        for name in sorted(router.model_fields_set & set(ZEBRA_OPTIONS)):
            yield finding(
                "LB133",
                (*path, to_camel(name)),
                f"router {router.name} {implementation.described}: {to_camel(name)} is a "
                f"setting of gobgpd's zebra client, which only implementation: {which} has",
                f"remove {to_camel(name)}",
            )
    resilient = router.resilient_ecmp
    if resilient is not None and takes.resilient is not None:
        yield _refused("LB133", (*path, "resilientEcmp"), router, takes.resilient)
    elif resilient is not None and resilient.via == "zebra" and takes.resilient_by_zebra:
        yield _refused("LB133", (*path, "resilientEcmp", "via"), router, takes.resilient_by_zebra)
    hops = router.ttl_security_hops or 1
    most, refusal = takes.gtsm or (hops, None)
    if refusal is not None and hops > most:
        yield finding(
            "LB134",
            (*path, "ttlSecurityHops"),
            f"router {router.name} {implementation.described} with GTSM {hops} hops: "
            f"{refusal.why}",
            refusal.fix,
        )


def _refused(code: str, path: SpecPath, router: Router, refusal: Refusal) -> Diagnostic:
    return finding(code, path, f"router {router.name} {refusal.why}", refusal.fix)


def _implementations(fabric: Fabric) -> Iterator[Diagnostic]:
    for index, router in enumerate(fabric.spec.routers):
        yield from _options(index, router)
        unproven = ROUTERS[router.implementation].takes.unproven
        if unproven is not None:
            yield finding(
                "LB130", ("spec", "routers", index, "implementation"), unproven.why, unproven.fix
            )


def _ends_without(fabric: Fabric, router: Router, able: Able) -> str | None:
    """Which ends of `router`'s sessions with the reflectors run an implementation that is not
    `able` (lbgen renders no passwords, GTSM or eBGP for it), as a clause; None when none."""
    found: list[tuple[str, Implementation[Any]]] = []
    if not able(ROUTERS[router.implementation].takes):
        found.append((f"router {router.name} itself", ROUTERS[router.implementation]))
    for rr in fabric.spec.reflectors:
        if not able(REFLECTORS[rr.implementation].takes):
            found.append((f"reflector {rr.name}", REFLECTORS[rr.implementation]))
    if not found:
        return None
    daemons = " and ".join(sorted({implementation.daemon for _, implementation in found}))
    verb = "runs" if len(found) == 1 else "run"
    return f"{', '.join(end for end, _ in found)} {verb} {daemons}"


def _secured_hint(router: Router, which: str, able: Able) -> str:
    """What to change: the reflectors, and the router too when its implementation is not
    `able` (a BIRD or an external router is)."""
    router_too = not able(ROUTERS[router.implementation].takes)
    ends = "every router and reflector" if router_too else "every reflector"
    return f"use implementation: frr on {ends} {which}".rstrip()


def _authentication(fabric: Fabric) -> Iterator[Diagnostic]:
    """Passwords and GTSM are rendered for FRR: every end of a secured session must be one."""
    spec = fabric.spec
    for index, rr in enumerate(spec.reflectors):
        refusal = REFLECTORS[rr.implementation].takes.lb_password
        if refusal is not None and rr.lb_password is not None:
            yield finding(
                "LB124",
                ("spec", "reflectors", index, "lbPassword"),
                f"reflector {rr.name} {refusal.why}",
                refusal.fix,
            )
    for index, router in enumerate(spec.routers):
        unsecured = _ends_without(fabric, router, SECURED)
        for field, what, value in (
            ("passwordFile", "a password", router.password_file),
            ("ttlSecurityHops", "GTSM", router.ttl_security_hops),
        ):
            if value is not None and unsecured is not None:
                yield finding(
                    "LB124",
                    ("spec", "routers", index, field),
                    f"{what} on router {router.name}'s sessions, but {unsecured}, for which lbgen "
                    "renders none",
                    _secured_hint(router, "of secured sessions", SECURED),
                )
    secured = [r.name for r in spec.reflectors if r.lb_password is not None]
    for index, rr in enumerate(spec.reflectors):
        if secured and rr.lb_password is None:
            yield finding(
                "LB125",
                ("spec", "reflectors", index),
                f"the LB pods' sessions with reflector {rr.name} have no password while "
                f"{', '.join(secured)}'s have: a rogue pod would announce through {rr.name}",
                "give this reflector an lbPassword too",
            )


def _ebgp(fabric: Fabric) -> Iterator[Diagnostic]:
    """A router in another AS: the reflectors must pass the LBs' nodes on as next hops, which
    lbgen renders for FRR (attribute-unchanged next-hop); gobgpd sets itself as the next hop
    towards an eBGP peer."""
    spec = fabric.spec
    for index, router in enumerate(spec.routers):
        unsecured = _ends_without(fabric, router, EBGP)
        if router.asn not in (None, spec.asn) and unsecured is not None:
            yield finding(
                "LB126",
                ("spec", "routers", index, "asn"),
                f"router {router.name} is in AS {router.asn}, not the fabric's {spec.asn}: "
                f"its sessions are eBGP, which lbgen renders for FRR only, and {unsecured}",
                _secured_hint(router, "", EBGP) + ", or leave out asn for an iBGP router",
            )
