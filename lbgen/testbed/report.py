"""What `lbgen testbed` prints: each service's next hops in the router's FIB against the LBs."""

from __future__ import annotations

from ipaddress import IPv4Address

DATAPATH_NOTE = (
    "datapath: traffic is routed router → ECMP → node → LB pod and answered there; "
    "this kernel has no IPVS, so IPVS forwarding to backends is not exercised"
)


def fib_report(found: dict[str, set[IPv4Address]], wanted: dict[str, set[IPv4Address]]) -> str:
    lines = []
    for service in sorted(wanted):
        have, want = found.get(service, set()), wanted[service]
        verdict = "ok" if have == want else "MISMATCH"
        shown = ", ".join(str(a) for a in sorted(have)) or "-"
        lines.append(
            f"{service}: {verdict}  next hops {shown}"
            + (
                ""
                if have == want
                else f"  (expected {', '.join(str(a) for a in sorted(want)) or '-'})"
            )
        )
    return "\n".join([*lines, DATAPATH_NOTE]) + "\n"
