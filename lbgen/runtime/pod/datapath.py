"""The LB pod's datapath (paper Fig. 7b (3) and the IPVS NAT return path), as commands."""

from __future__ import annotations

from collections.abc import Mapping
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from pathlib import Path

from lbgen.contract import POD_SYSCTLS
from lbgen.plan import ServicePlan

NFT_TABLE = "lbgen"


def local_routes(service: ServicePlan) -> list[list[str]]:
    """Accept every address of each of the service's prefixes (IPv4, IPv6) as local, so IPVS
    sees the VIPs at LOCAL_IN."""
    return [
        ["ip", f"-{p.version}", "route", "replace", "local", str(p), "dev", "lo", "table", "local"]
        for p in service.prefixes
    ]


def nft_ruleset(service: ServicePlan) -> str:
    """Masquerade what IPVS forwards to backends, so their replies come back through this LB.
    The first two lines make the load idempotent: create the table, then replace it whole."""
    tables: list[tuple[str, IPv4Network | IPv6Network, tuple[IPv4Address | IPv6Address, ...]]]
    tables = []
    if service.pod_network is not None and service.vips:
        tables.append(("ip", service.pod_network, service.vips))
    if service.pod_network6 is not None and service.vips6:
        tables.append(("ip6", service.pod_network6, service.vips6))
    return "".join(
        f"table {family} {NFT_TABLE}\n"
        f"delete table {family} {NFT_TABLE}\n"
        f"table {family} {NFT_TABLE} {{\n"
        "    chain postrouting {\n"
        "        type nat hook postrouting priority srcnat; policy accept;\n"
        f"        {family} daddr {pods} ct original {family} daddr "
        f"{{ {', '.join(str(v) for v in vips)} }} masquerade\n"
        "    }\n"
        "}\n"
        for family, pods, vips in tables
    )


def sysctl_problems(
    read: Mapping[str, str | None], wanted_sysctls: tuple[tuple[str, str], ...] = POD_SYSCTLS
) -> list[str]:
    """What is wrong with the pod's namespaced sysctls, given their current values."""
    problems = []
    for key, wanted in wanted_sysctls:
        value = read.get(key)
        if value is None:
            problems.append(f"{key} does not exist (is ip_vs loaded on the node?)")
        elif value.strip() != wanted:
            problems.append(f"{key} is {value.strip()}, needs {wanted}")
    return problems


def read_sysctls(
    proc: Path = Path("/proc/sys"), keys: tuple[tuple[str, str], ...] = POD_SYSCTLS
) -> dict[str, str | None]:
    values: dict[str, str | None] = {}
    for key, _ in keys:
        try:
            values[key] = (proc / key.replace(".", "/")).read_text(encoding="ascii")
        except OSError:
            values[key] = None
    return values
