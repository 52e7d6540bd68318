"""A router's `lbgen router-fib` files (routers[].resilientEcmp via the agent): its config,
router-fib.json, and the systemd unit that runs it beside FRR."""

from __future__ import annotations

from lbgen.contract import (
    CONFIG_DIR,
    ROUTER_FIB_CONFIG,
    ROUTER_FIB_CONFIG_NAME,
    ROUTER_FIB_LEASE_MS,
    ROUTER_FIB_RULE_PRIORITY,
    ROUTER_FIB_UNIT_NAME,
)
from lbgen.plan import RouterFibConfig, RouterPlan
from lbgen.render.text import generated_by, header, render_template


def render_router_fib(router: RouterPlan, source: str) -> dict[str, str]:
    """router-fib.json and the unit, by file name; nothing when the router needs no agent."""
    resilient = router.resilient
    if resilient is None or resilient.via != "agent":
        return {}
    config = RouterFibConfig(
        header=generated_by(source),
        source=source,
        router=router.name,
        buckets=resilient.buckets,
        idle_timer=resilient.idle_timer,
        unbalanced_timer=resilient.unbalanced_timer,
        table=resilient.table,
        fwmark=resilient.fwmark,
        rule_priority=ROUTER_FIB_RULE_PRIORITY,
        lease_ms=ROUTER_FIB_LEASE_MS,
        prefixes=tuple(p for p in router.prefixes if p.version == 4),
        prefixes6=tuple(p for p in router.prefixes if p.version == 6),
    )
    unit = render_template(
        "fib/lbgen-router-fib.service.j2",
        header=header(source, "#"),
        router=router,
        config_name=ROUTER_FIB_CONFIG_NAME,
        config_dir=CONFIG_DIR,
        config_path=ROUTER_FIB_CONFIG,
        unit_name=ROUTER_FIB_UNIT_NAME,
        lease_ms=ROUTER_FIB_LEASE_MS,
    )
    return {
        ROUTER_FIB_CONFIG_NAME: config.model_dump_json(indent=2) + "\n",
        ROUTER_FIB_UNIT_NAME: unit,
    }
