"""FRR (bgpd, zebra, staticd): the default router, and the reflector that authenticates LB
sessions and passes next hops on across eBGP."""

from __future__ import annotations

from collections.abc import Sequence

from lbgen.implementations.description import (
    Implementation,
    Join,
    Takes,
    TestbedRun,
    linux_router,
    passwords_file,
)
from lbgen.plan import BoxPassword, BoxPasswords, ReflectorPlan, RouterPlan
from lbgen.render import sysctl
from lbgen.render.fib import ZEBRA
from lbgen.render.frr import (
    reflector_fds,
    reflector_passwords,
    render_frr_conf,
    render_frr_daemons,
    render_frr_passwords,
    render_reflector_frr,
    router_passwords,
)
from lbgen.render.tree import Tree
from lbgen.verify.discard import frr_rejects
from lbgen.verify.read import read_frr_box

CONFIG = "frr.conf"


def _router(router: RouterPlan, source: str) -> Tree:
    """frr.conf (its discard routes too), the daemons file that starts staticd for them."""
    return {
        CONFIG: render_frr_conf(router, source),
        "daemons": render_frr_daemons(source, staticd=True),
        **passwords_file(router_passwords(router, source)),
        **linux_router(router, source, ZEBRA),
    }


def _reflector(rr: ReflectorPlan, source: str) -> Tree:
    """frr.conf, and a daemons file that lets bgpd open a socket per LB session."""
    return {
        CONFIG: render_reflector_frr(rr, source),
        "daemons": render_frr_daemons(source, staticd=False, max_fds=reflector_fds(rr)),
        **passwords_file(reflector_passwords(rr, source)),
        "sysctl.conf": sysctl.render_sysctl(source, sysctl.REFLECTOR),
    }


def join(compiled: str, listing: BoxPasswords, found: Sequence[tuple[BoxPassword, str]]) -> str:
    """frr.conf with a `neighbor … password` line per session, appended."""
    return compiled + render_frr_passwords(listing, found)


ROUTER = Implementation[RouterPlan](
    name="frr",
    daemon="FRR",
    described="runs FRR",
    config=CONFIG,
    render=_router,
    read=read_frr_box,
    discards=frr_rejects(CONFIG, daemons="daemons"),
    joins=Join(CONFIG, join),
    testbed=TestbedRun(("zebra", "bgpd", "staticd")),
)

REFLECTOR = Implementation[ReflectorPlan](
    name="frr",
    daemon="FRR",
    described="runs FRR",
    config=CONFIG,
    render=_reflector,
    read=read_frr_box,
    joins=Join(CONFIG, join),
    takes=Takes(
        address6=(
            "FRR reflects an IPv6 path only when it resolves its next hop (measured: it sent none)"
        ),
    ),
    testbed=TestbedRun(("zebra", "bgpd")),
)
