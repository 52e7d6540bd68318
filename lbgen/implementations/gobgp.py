"""gobgpd: the paper's reflector (the default), and the paper's router with zebra beside it,
rendered and dry-run checked but not proven (osrg/gobgp#2681). lbgen secures no session of
its and renders no eBGP through it."""

from __future__ import annotations

from lbgen.implementations.description import (
    Implementation,
    Refusal,
    Takes,
    TestbedRun,
    linux_router,
)
from lbgen.plan import ReflectorPlan, RouterPlan
from lbgen.render import sysctl
from lbgen.render.fib import ZEBRA
from lbgen.render.frr import render_staticd_conf, render_zebra_conf
from lbgen.render.gobgp import render_reflector_gobgpd, render_router_gobgpd
from lbgen.render.tree import Tree
from lbgen.verify.discard import frr_rejects
from lbgen.verify.read import read_gobgp_box

CONFIG = "gobgpd.yaml"
# why a password on its dynamic (LB) sessions cannot be
CANNOT_AUTHENTICATE = (
    "gobgpd 3.10 cannot authenticate dynamic neighbours (osrg/gobgp#2589), and lbgen "
    "secures sessions on FRR only"
)
PANICS = "gobgpd 3.10 panics against FRR 8.4's zebra (osrg/gobgp#2681)"


def _router(router: RouterPlan, source: str) -> Tree:
    """gobgpd.yaml with its zebra client, zebra's own config, staticd's discard routes."""
    return {
        CONFIG: render_router_gobgpd(router, source),
        "zebra.conf": render_zebra_conf(router, source),
        "staticd.conf": render_staticd_conf(router, source),
        **linux_router(router, source, ZEBRA),
    }


def _reflector(rr: ReflectorPlan, source: str) -> Tree:
    return {
        CONFIG: render_reflector_gobgpd(rr, source),
        "sysctl.conf": sysctl.render_sysctl(source, sysctl.REFLECTOR),
    }


ROUTER = Implementation[RouterPlan](
    name="gobgp",
    daemon="gobgpd",
    described="runs gobgpd",
    config=CONFIG,
    render=_router,
    read=read_gobgp_box,
    discards=frr_rejects("staticd.conf"),
    takes=Takes(
        zebra_options=True,
        secured=False,
        ebgp=False,
        unproven=Refusal(
            f"{PANICS}; this pair is rendered and dry-run checked but not proven to route",
            "use implementation: frr unless your gobgpd and zebra are known to work together",
        ),
    ),
    testbed=TestbedRun((), refused=f"the testbed runs FRR and BIRD routers only: {PANICS}"),
)

REFLECTOR = Implementation[ReflectorPlan](
    name="gobgp",
    daemon="gobgpd",
    described="runs gobgpd",
    config=CONFIG,
    render=_reflector,
    read=read_gobgp_box,
    takes=Takes(
        secured=False,
        ebgp=False,
        lb_password=Refusal(
            f"runs gobgpd: {CANNOT_AUTHENTICATE}", "set implementation: frr on this reflector"
        ),
    ),
    testbed=TestbedRun(("gobgpd",)),
)
