"""LB110–LB116, LB124–LB126, LB130, LB133–LB134: AS number, timers, ECMP width,
implementations, the options each takes, and what each can secure."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic.alias_generators import to_camel

from lbgen.codes import finding
from lbgen.errors import Diagnostic, Severity, SpecPath
from lbgen.spec import Fabric, Router

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


# options only gobgpd + zebra reads (the other implementations have no zebra API client)
ZEBRA_OPTIONS = ("zebra_version", "zebra_software", "zebra_socket")


def _options(index: int, router: Router) -> Iterator[Diagnostic]:
    """What a router's implementation cannot take: zebra's settings off gobgp; resilientEcmp
    on a router lbgen renders nothing for; zebra's own resilience knob, or GTSM beyond the
    direct sessions it renders, on BIRD."""
    path = ("spec", "routers", index)
    kind = router.implementation
    if kind in ("bird", "external"):
        for name in sorted(router.model_fields_set & set(ZEBRA_OPTIONS)):
            yield finding(
                "LB133",
                (*path, to_camel(name)),
                f"router {router.name} {'runs BIRD' if kind == 'bird' else 'is external'}: "
                f"{to_camel(name)} is a setting of gobgpd's zebra client, which only "
                "implementation: gobgp has",
                f"remove {to_camel(name)}",
            )
    resilient = router.resilient_ecmp
    if kind == "external" and resilient is not None:
        yield finding(
            "LB133",
            (*path, "resilientEcmp"),
            f"router {router.name} is external: lbgen renders nothing to run on it, so no "
            "agent or zebra knob would make its groups resilient",
            "remove resilientEcmp and turn on the vendor's resilient hashing on that router "
            "(see its README.md in out/)",
        )
    if kind == "bird" and resilient is not None and resilient.via == "zebra":
        yield finding(
            "LB133",
            (*path, "resilientEcmp", "via"),
            f"router {router.name} runs BIRD, which has no zebra: via: zebra is FRR's knob",
            "use via: agent (lbgen router-fib follows BIRD's kernel routes too)",
        )
    if kind == "bird" and (router.ttl_security_hops or 1) > 1:
        yield finding(
            "LB134",
            (*path, "ttlSecurityHops"),
            f"router {router.name} runs BIRD with GTSM {router.ttl_security_hops} hops: lbgen "
            "renders BIRD's sessions direct (its next hops, the nodes, on the same network), "
            "and BIRD's GTSM beyond one hop needs multihop sessions",
            "use ttlSecurityHops: 1 with the reflectors on the router's network",
        )


def _implementations(fabric: Fabric) -> Iterator[Diagnostic]:
    for index, router in enumerate(fabric.spec.routers):
        yield from _options(index, router)
        if router.implementation == "gobgp":
            yield finding(
                "LB130",
                ("spec", "routers", index, "implementation"),
                "gobgpd 3.10 panics against FRR 8.4's zebra (osrg/gobgp#2681); "
                "this pair is rendered and dry-run checked but not proven to route",
                "use implementation: frr unless your gobgpd and zebra are known to work together",
            )


GOBGP_CANNOT = (
    "gobgpd 3.10 cannot authenticate dynamic neighbours (osrg/gobgp#2589), and lbgen "
    "secures sessions on FRR only"
)


def _gobgp_ends(fabric: Fabric, router: Router) -> str | None:
    """Which ends of `router`'s sessions with the reflectors run gobgpd, as a clause; None when
    every one is FRR (what lbgen renders passwords, GTSM and eBGP for)."""
    ends = [f"router {router.name} itself"] if router.implementation == "gobgp" else []
    ends += [f"reflector {r.name}" for r in fabric.spec.reflectors if r.implementation == "gobgp"]
    if not ends:
        return None
    return f"{', '.join(ends)} {'runs' if len(ends) == 1 else 'run'} gobgpd"


def _frr_hint(router: Router, which: str) -> str:
    """What to change: the reflectors, and the router too when it runs gobgpd (a BIRD or an
    external router is not one lbgen can make FRR)."""
    ends = "every router and reflector" if router.implementation == "gobgp" else "every reflector"
    return f"use implementation: frr on {ends} {which}".rstrip()


def _authentication(fabric: Fabric) -> Iterator[Diagnostic]:
    """Passwords and GTSM are rendered for FRR: every end of a secured session must be one."""
    spec = fabric.spec
    for index, rr in enumerate(spec.reflectors):
        if rr.implementation == "gobgp" and rr.lb_password is not None:
            yield finding(
                "LB124",
                ("spec", "reflectors", index, "lbPassword"),
                f"reflector {rr.name} runs gobgpd: {GOBGP_CANNOT}",
                "set implementation: frr on this reflector",
            )
    for index, router in enumerate(spec.routers):
        gobgp = _gobgp_ends(fabric, router)
        for field, what, value in (
            ("passwordFile", "a password", router.password_file),
            ("ttlSecurityHops", "GTSM", router.ttl_security_hops),
        ):
            if value is not None and gobgp is not None:
                yield finding(
                    "LB124",
                    ("spec", "routers", index, field),
                    f"{what} on router {router.name}'s sessions, but {gobgp}, for which lbgen "
                    "renders none",
                    _frr_hint(router, "of secured sessions"),
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
        gobgp = _gobgp_ends(fabric, router)
        if router.asn not in (None, spec.asn) and gobgp is not None:
            yield finding(
                "LB126",
                ("spec", "routers", index, "asn"),
                f"router {router.name} is in AS {router.asn}, not the fabric's {spec.asn}: "
                f"its sessions are eBGP, which lbgen renders for FRR only, and {gobgp}",
                _frr_hint(router, "") + ", or leave out asn for an iBGP router",
            )
