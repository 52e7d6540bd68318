"""FRR for an upstream router: bgpd + zebra in one integrated frr.conf, its daemons file, and the
zebra.conf that the gobgp flavour pairs with gobgpd."""

from __future__ import annotations

from lbgen.plan import RouterPlan
from lbgen.render.text import header, render_template


def render_frr_conf(router: RouterPlan, source: str) -> str:
    return render_template("frr/frr.conf.j2", header=header(source, "!"), router=router)


def render_frr_daemons(source: str) -> str:
    return render_template("frr/daemons.j2", header=header(source, "#"))


def render_zebra_conf(router: RouterPlan, source: str) -> str:
    return render_template("frr/zebra.conf.j2", header=header(source, "!"), router=router)
