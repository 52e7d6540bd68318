"""A router's `lbgen router-fib` files (routers[].resilientEcmp via router-fib): its config,
router-fib.json, and the systemd unit that runs it beside FRR."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network

from lbgen.contract import (
    CONFIG_DIR,
    ROUTER_FIB_CONFIG,
    ROUTER_FIB_CONFIG_NAME,
    ROUTER_FIB_LEASE_MS,
    ROUTER_FIB_NICE,
    ROUTER_FIB_RULE_PRIORITY,
    ROUTER_FIB_UNIT_NAME,
    RTPROT_BGP,
    RTPROT_BIRD,
)
from lbgen.plan import ResilientPlan, RouterFibConfig, RouterPlan
from lbgen.render.text import generated_by, header, render_template


@dataclass(frozen=True)
class Follows:
    """The routes `lbgen router-fib` copies into its groups: those of one kernel route protocol,
    which one daemon installs (its unit starts after that daemon's service)."""

    protocol: int
    daemon: str  # in words
    service: str  # its systemd unit


ZEBRA = Follows(RTPROT_BGP, "zebra", "frr")
BIRD = Follows(RTPROT_BIRD, "BIRD", "bird")


def router_fib_config(
    router: str,
    resilient: ResilientPlan,
    prefixes: Sequence[IPv4Network | IPv6Network],
    source: str,
    route_protocol: int = RTPROT_BGP,
) -> RouterFibConfig:
    """What `lbgen router-fib` reads on `router`: its prefixes, the group settings, lbgen's
    rule priority and lease."""
    return RouterFibConfig(
        header=generated_by(source),
        source=source,
        router=router,
        **resilient.model_dump(exclude={"via"}),
        rule_priority=ROUTER_FIB_RULE_PRIORITY,
        lease_ms=ROUTER_FIB_LEASE_MS,
        route_protocol=route_protocol,
        prefixes=tuple(p for p in prefixes if isinstance(p, IPv4Network)),
        prefixes6=tuple(p for p in prefixes if isinstance(p, IPv6Network)),
    )


def render_router_fib(router: RouterPlan, source: str, follows: Follows) -> dict[str, str]:
    """router-fib.json and the unit, by file name; nothing when the router runs no router-fib."""
    resilient = router.resilient
    if resilient is None or resilient.via != "router-fib":
        return {}
    config = router_fib_config(router.name, resilient, router.prefixes, source, follows.protocol)
    unit = render_template(
        "fib/lbgen-router-fib.service.j2",
        header=header(source, "#"),
        router=router,
        config_name=ROUTER_FIB_CONFIG_NAME,
        config_dir=CONFIG_DIR,
        config_path=ROUTER_FIB_CONFIG,
        unit_name=ROUTER_FIB_UNIT_NAME,
        follows=follows.daemon,
        daemon=follows.service,
        lease_ms=ROUTER_FIB_LEASE_MS,
        nice=ROUTER_FIB_NICE,
    )
    return {
        ROUTER_FIB_CONFIG_NAME: config.model_dump_json(indent=2) + "\n",
        ROUTER_FIB_UNIT_NAME: unit,
    }
