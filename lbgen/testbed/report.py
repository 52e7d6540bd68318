"""What `lbgen testbed` prints: each router's next hops per service against the live LBs, each
LB pod's readiness, and how to reach every VIP from the client behind each router."""

from __future__ import annotations

from collections import Counter
from ipaddress import IPv4Address, IPv6Address
from typing import Any

from lbgen.testbed.clients.flows import fields

DATAPATH_NOTE = (
    "datapath: traffic is routed router → ECMP → node → LB pod and answered there; "
    "this kernel has no IPVS, so IPVS forwarding to backends is not exercised"
)
IPVS_NOTE = (
    "datapath: router → ECMP → node → LB pod → IPVS (keepalived, NAT) → backend, and back "
    "through the LB pod's masquerade"
)


Hops = set[IPv4Address | IPv6Address]


def _hops(addresses: Hops) -> str:
    return ", ".join(str(a) for a in sorted(addresses, key=lambda a: (a.version, a))) or "-"


def fib_report(
    found: dict[str, dict[str, Hops]],
    wanted: dict[str, Hops],
    *,
    ipvs: bool = False,
) -> str:
    lines = []
    for router in sorted(found):
        lines.append(f"router {router}:")
        for service in sorted(wanted):
            have, want = found[router].get(service, set()), wanted[service]
            verdict = "ok" if have == want else "MISMATCH"
            line = f"  {service}: {verdict}  next hops {_hops(have)}"
            if have != want:
                line += f"  (expected {_hops(want)})"
            lines.append(line)
    return "\n".join([*lines, IPVS_NOTE if ipvs else DATAPATH_NOTE]) + "\n"


def readiness_report(problems: dict[str, list[str]]) -> str:
    lines = []
    for pod in sorted(problems):
        found = problems[pod]
        lines.append(f"{pod}: ready" if not found else f"{pod}: NOT READY: {'; '.join(found)}")
    return "\n".join(lines) + ("\n" if lines else "")


def announce_report(statuses: dict[str, dict[str, Any] | None]) -> str:
    """Per LB pod, what its announcer decided (announce.json): each family announced or
    withdrawn and why, how often that changed, each reflector's session."""
    lines = []
    for pod in sorted(statuses):
        status = statuses[pod]
        if status is None:
            lines.append(f"{pod}: no announcer status")
            continue
        parts = []
        for family, state in sorted(status["families"].items()):
            said = "announced" if state["announced"] else "WITHDRAWN"
            why = f" ({'; '.join(state['problems'])})" if state["problems"] else ""
            parts.append(f"{family} {said}{why}, {state['changes']} changes")
        sessions = ", ".join(
            f"{name} {'up' if up else 'DOWN'}" for name, up in sorted(status["sessions"].items())
        )
        lines.append(f"{pod}: {'; '.join(parts)}; sessions {sessions}")
    return "\n".join(lines) + ("\n" if lines else "")


def reach_report(commands: dict[str, list[str]]) -> str:
    lines = []
    for router in sorted(commands):
        lines.append(f"from the client behind router {router}:")
        lines += [f"  {command}" for command in commands[router]]
    return "\n".join(lines) + ("\n" if lines else "")


def traffic_report(
    answers: dict[str, list[str]], backends: dict[str, set[str]]
) -> tuple[str, bool]:
    """Per VIP:port, which backends and LB pods answered the client's requests; not ok when an
    answer did not come from one of that service's backends."""
    lines, ok = [], True
    for target in sorted(answers):
        got = [fields(a) for a in answers[target]]
        by_backend = Counter(g.get("backend", "?") for g in got)
        by_lb = Counter(g.get("peer", "?") for g in got)
        good = bool(got) and set(by_backend) <= backends[target]
        ok = ok and good
        shown = ", ".join(f"{k} {v}" for k, v in sorted(by_backend.items()))
        lbs = ", ".join(f"{k} {v}" for k, v in sorted(by_lb.items()))
        verdict = "ok" if good else "WRONG"
        lines.append(
            f"{target}: {verdict}  {len(got)} requests: backends {shown}; via LB pods {lbs}"
        )
    return "\n".join(lines) + ("\n" if lines else ""), ok
