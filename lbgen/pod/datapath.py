"""The LB pod's datapath (paper Fig. 7b (3) and the IPVS NAT return path), as commands."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from lbgen.contract import POD_SYSCTLS
from lbgen.plan import ServicePlan

NFT_TABLE = "lbgen"


def local_route(service: ServicePlan) -> list[str]:
    """Accept every address of the prefix as local, so IPVS sees the VIPs at LOCAL_IN."""
    return ["ip", "route", "replace", "local", str(service.prefix), "dev", "lo", "table", "local"]


def nft_ruleset(service: ServicePlan) -> str:
    """Masquerade what IPVS forwards to backends, so their replies come back through this LB.
    The first two lines make the load idempotent: create the table, then replace it whole."""
    vips = ", ".join(str(v) for v in service.vips)
    return (
        f"table ip {NFT_TABLE}\n"
        f"delete table ip {NFT_TABLE}\n"
        f"table ip {NFT_TABLE} {{\n"
        "    chain postrouting {\n"
        "        type nat hook postrouting priority srcnat; policy accept;\n"
        f"        ip daddr {service.pod_network} ct original ip daddr {{ {vips} }} masquerade\n"
        "    }\n"
        "}\n"
    )


def sysctl_problems(read: Mapping[str, str | None]) -> list[str]:
    """What is wrong with the pod's namespaced sysctls, given their current values."""
    problems = []
    for key, wanted in POD_SYSCTLS:
        value = read.get(key)
        if value is None:
            problems.append(f"{key} does not exist (is ip_vs loaded on the node?)")
        elif value.strip() != wanted:
            problems.append(f"{key} is {value.strip()}, needs {wanted}")
    return problems


def read_sysctls(proc: Path = Path("/proc/sys")) -> dict[str, str | None]:
    values: dict[str, str | None] = {}
    for key, _ in POD_SYSCTLS:
        try:
            values[key] = (proc / key.replace(".", "/")).read_text(encoding="ascii")
        except OSError:
            values[key] = None
    return values
