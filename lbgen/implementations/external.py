"""A router the network team owns (implementation: external): lbgen writes the contract it
must meet, not a config; its kernel settings, discard routes and resilient hashing are its
owners' (the contract lists them). The testbed runs BIRD on a config its owners would write."""

from __future__ import annotations

from lbgen.implementations.description import Implementation, Refusal, Takes, TestbedRun
from lbgen.plan import RouterPlan
from lbgen.render.external import CONTRACT_NAME, render_contract
from lbgen.render.tree import Tree
from lbgen.verify.read import read_contract_box


def _router(router: RouterPlan, source: str) -> Tree:
    """contract.json and README.md: what it must do; FRR and BIRD configs that would do it."""
    return render_contract(router, source)


ROUTER = Implementation[RouterPlan](
    name="external",
    daemon="the network team's router",
    described="is external",
    config=CONTRACT_NAME,
    render=_router,
    read=read_contract_box,
    # its discard routes are the contract's list, checked with the contract
    discards=None,
    sysctl=False,
    takes=Takes(
        resilient=Refusal(
            "is external: lbgen renders nothing to run on it, so neither router-fib nor zebra's "
            "knob would make its groups resilient",
            "remove resilientEcmp and turn on the vendor's resilient hashing on that router "
            "(see its README.md in out/)",
        ),
    ),
    testbed=TestbedRun(("bird",), owners=True),
)
