"""The kernel settings ECMP forwarding cannot work without, stated apart from the renderer."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from lbgen.diagnostics import Diagnostic, Position, broken
from lbgen.plan import Plan

REQUIRED = {
    "routers": {"net.ipv4.ip_forward": "1", "net.ipv4.fib_multipath_hash_policy": "1"},
    "nodes": {"net.ipv4.ip_forward": "1"},
    "reflectors": {},
}
# where IPv6 service prefixes are forwarded
REQUIRED6 = {
    "routers": {
        "net.ipv6.conf.all.forwarding": "1",
        "net.ipv6.fib_multipath_hash_policy": "1",
    },
    "nodes": {"net.ipv6.conf.all.forwarding": "1"},
    "reflectors": {},
}


def read_sysctl(text: str) -> dict[str, tuple[str, int]]:
    """key → (value, line) of a sysctl.conf; later lines win, as with `sysctl -p`."""
    settings = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        key, _, value = line.partition("=")
        settings[key.strip().lstrip("-")] = (value.strip(), number)
    return settings


def check_sysctl(
    plan: Plan, tree: dict[str, str], boxes: Iterable[tuple[str, str]]
) -> Iterator[Diagnostic]:
    """`boxes`: the routers and reflectors lbgen writes a sysctl.conf for, as (kind, name) (an
    external router's settings are the network team's: its README.md says them); every node."""
    checked = [(f"{kind}s", name) for kind, name in boxes] + [("nodes", n.name) for n in plan.nodes]
    for group, name in checked:
        file = f"{group}/{name}/sysctl.conf"
        if file not in tree:
            yield broken("LB200", Position(file, 1, 1), f"{group[:-1]} {name} has no sysctl.conf")
            continue
        settings = read_sysctl(tree[file])
        carries4, carries6 = _carries(plan, group, name)
        required = {
            **(REQUIRED[group] if carries4 else {}),
            **(REQUIRED6[group] if carries6 else {}),
        }
        for key, wanted in required.items():
            value, line = settings.get(key, ("<unset>", 1))
            if value != wanted:
                yield broken(
                    "LB209",
                    Position(file, line, 1),
                    f"{key} is {value}, ECMP forwarding needs {wanted}",
                )


def _carries(plan: Plan, group: str, name: str) -> tuple[bool, bool]:
    """Whether a box forwards IPv4 and IPv6 service traffic: a router each family the sessions
    carry, a node each family it has an address of."""
    if group == "nodes":
        node = next(n for n in plan.nodes if n.name == name)
        return node.address is not None, "ipv6" in plan.families and node.address6 is not None
    return "ipv4" in plan.families, "ipv6" in plan.families
