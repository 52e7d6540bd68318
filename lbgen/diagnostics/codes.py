"""Every diagnostic code lbgen gives, once: its severity and its one-line meaning. Checks make
findings through `lbgen.diagnostics.finding(code, …)`, which takes the severity from here;
docs/codes.md's table is this table (a test compares them); the case-coverage test iterates
it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from lbgen.diagnostics.model import Severity


class Stage(Enum):
    """Where a code comes from: the spec (a case in tests/cases shows it) or lbgen's own output
    (a bug in lbgen: tests/unit/verify/test_verify.py breaks each renderer to show it)."""

    SPEC = "spec"
    OUTPUT = "output"


@dataclass(frozen=True)
class Code:
    code: str
    severity: Severity | None  # None: the check says which (the table gives both)
    meaning: str
    stage: Stage = Stage.SPEC


E, W = Severity.ERROR, Severity.WARNING
OUT = Stage.OUTPUT

CODES: dict[str, Code] = {
    c.code: c
    for c in (
        Code("LB000", E, "the spec file cannot be read"),
        Code("LB001", E, "YAML syntax error"),
        Code("LB002", E, "duplicate key"),
        Code("LB003", E, "the document is not a mapping"),
        Code("LB004", E, "the spec is a FIFO, device or folder, not a regular file"),
        Code("LB005", E, "the spec is larger than 4 MiB"),
        Code("LB006", E, "the spec nests deeper than 64 levels"),
        Code("LB007", E, "the spec's aliases expand to more than 1,000,000 nodes"),
        Code("LB010", E, "unknown field (schema)"),
        Code("LB011", E, "missing field (schema)"),
        Code("LB012", E, "wrong type or value (schema)"),
        Code("LB101", E, "duplicate name (node, router, reflector, service, port)"),
        Code("LB102", E, "unknown node in `loadBalancers.nodes`"),
        Code("LB103", E, "VIP outside its service prefix"),
        Code("LB104", E, "overlapping service prefixes"),
        Code("LB105", E, "service prefix overlaps the node or pod network"),
        Code(
            "LB106",
            E,
            "router/reflector/node address outside the node network (or its network/broadcast "
            "address)",
        ),
        Code("LB107", E, "address used twice"),
        Code("LB108", E, "router-id clash, or a router-id inside the pod network"),
        Code("LB109", E, "reflector's `podRange` does not cover the pod network"),
        Code("LB110", E, "invalid hold time / keepalive"),
        Code("LB111", W, "keepalive above a third of the hold time"),
        Code("LB112", E, "more replicas than eligible nodes (two LBs of a service share no node)"),
        Code("LB113", E, "the same port and protocol twice on a service's VIPs"),
        Code("LB114", None, "reserved AS (error); documentation or public AS (warning)"),
        Code("LB115", W, "no services"),
        Code("LB116", E, "more LBs than the router's `maxPaths`"),
        Code("LB117", E, "the same VIP twice"),
        Code("LB118", W, "VIP is the prefix's network or broadcast address"),
        Code("LB119", E, "node and pod networks overlap"),
        Code("LB121", W, "`podRange` also covers the node network"),
        Code(
            "LB122",
            E,
            "a node's `podSubnet` is outside the pod network or a reflector's `podRange`",
        ),
        Code("LB123", E, "two nodes' pod subnets overlap"),
        Code("LB124", E, "a password or GTSM on a session with a gobgpd end (osrg/gobgp#2589)"),
        Code("LB125", W, "some reflectors authenticate LB pods and others do not"),
        Code("LB126", E, "a router in another AS (eBGP) with a gobgpd end"),
        Code(
            "LB127", E, "an address or prefix in a special-purpose range (loopback, link-local, …)"
        ),
        Code(
            "LB128",
            E,
            "an address family's part without the rest (networks, addresses, prefixes)",
        ),
        Code(
            "LB129",
            E,
            "a router or reflector with no `routerId` and no IPv4 address (IPv6-only cluster)",
        ),
        Code("LB130", W, "`implementation: gobgp` (osrg/gobgp#2681)"),
        Code("LB131", E, "`resilientEcmp.table` is one of the kernel's own tables (253–255)"),
        Code(
            "LB132",
            E,
            "`resilientEcmp.via: zebra` with a value zebra's knob does not take (buckets above "
            "256, unbalancedTimer 0)",
        ),
        Code(
            "LB133",
            E,
            "a router option its implementation does not take (zebra settings off gobgp, "
            "resilientEcmp on an external router or through zebra on BIRD)",
        ),
        Code("LB134", E, "GTSM beyond one hop on a BIRD router (its direct sessions)"),
        Code("LB135", W, "`resilientEcmp.via: agent`, router-fib's old name"),
        Code("LB140", E, "`path` or `status` on a tcp health check"),
        Code("LB141", E, "HTTP check path does not start with /"),
        Code("LB142", E, "HTTP health check on a service with only UDP ports"),
        Code(
            "LB143",
            E,
            "invalid Kubernetes label key or value (node labels, nodeSelector, monitoring labels)",
        ),
        Code("LB144", W, "the image is `:latest`"),
        Code(
            "LB145",
            W,
            "a non-hashing scheduler with several LBs (flows moved by ECMP change backend)",
        ),
        Code("LB146", W, "`drainSeconds: 0`"),
        Code("LB149", E, "the LoadBalancer Service would replace its own backend Service"),
        Code("LB151", E, "`gitops.path` is not a folder inside the repository"),
        Code("LB152", E, "a service would replace one Kubernetes owns (`default/kubernetes`)"),
        Code("LB153", E, "a service name too long for its LB Deployment's DNS label (60 at most)"),
        Code("LB200", E, "a rendered file cannot be read back", OUT),
        Code("LB201", E, "a session configured on one end only", OUT),
        Code("LB202", E, "AS mismatch between the ends of a session", OUT),
        Code("LB203", E, "both ends of a session passive", OUT),
        Code("LB204", E, "add-paths send without receive (or the reverse)", OUT),
        Code("LB205", E, "multipath narrower than the largest service", OUT),
        Code("LB206", E, "no shared address family", OUT),
        Code(
            "LB207",
            E,
            "an import policy (reflector's, or FRR router's) is not the one described",
            OUT,
        ),
        Code("LB208", E, "LB peers are not route-reflector clients", OUT),
        Code("LB209", E, "a sysctl ECMP needs is missing", OUT),
        Code("LB210", E, "GTSM on one end of a session only, or different hop counts", OUT),
        Code("LB211", E, "a reflector would be the next hop towards an eBGP router", OUT),
        Code(
            "LB212",
            E,
            "a router without a discard route beneath BGP for a service prefix, or without "
            "staticd to install it",
            OUT,
        ),
        Code("LB213", E, "a reflector would send its LB pods routes", OUT),
    )
}


def markdown_table() -> str:
    """docs/codes.md's table of codes."""
    lines = ["| code | severity | finding |", "|---|---|---|"]
    for code in CODES.values():
        severity = code.severity.value if code.severity else "error or warning"
        meaning = code.meaning + (" — a bug in lbgen; exit 2" if code.stage is OUT else "")
        lines.append(f"| {code.code} | {severity} | {meaning} |")
    return "\n".join(lines) + "\n"
