"""BIRD 2: a router with the FRR router's sessions, import filters, discard routes and
resilient groups (through lbgen router-fib), and direct sessions only."""

from __future__ import annotations

from collections.abc import Sequence

from lbgen.implementations.description import (
    Implementation,
    Join,
    Refusal,
    Takes,
    TestbedRun,
    linux_router,
    passwords_file,
)
from lbgen.plan import BoxPassword, BoxPasswords, RouterPlan
from lbgen.render.bird import render_bird_conf, render_bird_passwords
from lbgen.render.fib import BIRD
from lbgen.render.frr import router_passwords
from lbgen.render.tree import Tree
from lbgen.verify.discard import bird_unreachables
from lbgen.verify.read import read_bird_box

CONFIG = "bird.conf"


def _router(router: RouterPlan, source: str) -> Tree:
    return {
        CONFIG: render_bird_conf(router, source),
        **passwords_file(router_passwords(router, source)),
        **linux_router(router, source, BIRD),
    }


def join(compiled: str, _listing: BoxPasswords, found: Sequence[tuple[BoxPassword, str]]) -> str:
    """bird.conf with each session's password line inside its protocol block."""
    return render_bird_passwords(compiled, found)


ROUTER = Implementation[RouterPlan](
    name="bird",
    daemon="BIRD",
    described="runs BIRD",
    config=CONFIG,
    render=_router,
    read=read_bird_box,
    discards=bird_unreachables(CONFIG),
    joins=Join(CONFIG, join),
    takes=Takes(
        resilient_by_zebra=Refusal(
            "runs BIRD, which has no zebra: via: zebra is FRR's knob",
            "use via: router-fib (it follows BIRD's kernel routes too)",
        ),
        gtsm=(
            1,
            Refusal(
                "lbgen renders BIRD's sessions direct (its next hops, the nodes, on the same "
                "network), and BIRD's GTSM beyond one hop needs multihop sessions",
                "use ttlSecurityHops: 1 with the reflectors on the router's network",
            ),
        ),
    ),
    testbed=TestbedRun(("bird",)),
)
