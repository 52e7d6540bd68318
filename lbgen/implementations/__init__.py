"""One description per router and reflector implementation (netlab's devices, check-jsonschema's
parser table): what lbgen writes for such a box, how the verifier reads it back, where its
discard routes are, what `lbgen box-config` joins, what the spec may ask of it, and how the
testbed runs it. A feature across implementations extends each description (frr.py, bird.py,
gobgp.py, external.py); the code that uses them never asks a box's implementation by name."""

from __future__ import annotations

from typing import Any

from lbgen.implementations import bird, external, frr, gobgp
from lbgen.implementations.description import Box, Implementation
from lbgen.plan import Plan, ReflectorPlan, RouterPlan
from lbgen.render.tree import Tree
from lbgen.verify.read import RenderedBox
from lbgen.verify.sessions import families

ROUTERS: dict[str, Implementation[RouterPlan]] = {
    i.name: i for i in (frr.ROUTER, bird.ROUTER, gobgp.ROUTER, external.ROUTER)
}
REFLECTORS: dict[str, Implementation[ReflectorPlan]] = {
    i.name: i for i in (frr.REFLECTOR, gobgp.REFLECTOR)
}
# the implementations whose passwords `lbgen box-config` joins, and what it joins by the
# compiled file it finds in a box's folder
ALL: tuple[Implementation[Any], ...] = (*ROUTERS.values(), *REFLECTORS.values())
JOINED = [i for i in ALL if i.joins is not None]
JOINS = {i.joins.config: i.joins for i in JOINED if i.joins is not None}


def of_router(router: RouterPlan) -> Implementation[RouterPlan]:
    return ROUTERS[router.implementation]


def of_reflector(reflector: ReflectorPlan) -> Implementation[ReflectorPlan]:
    return REFLECTORS[reflector.implementation]


def render_boxes(plan: Plan) -> Tree:
    """Every file of every router and reflector, by its path in out/<fabric>/."""
    tree: Tree = {}
    for router in plan.routers:
        files = of_router(router).render(router, plan.source)
        tree.update({f"routers/{router.name}/{name}": text for name, text in files.items()})
    for rr in plan.reflectors:
        files = of_reflector(rr).render(rr, plan.source)
        tree.update({f"reflectors/{rr.name}/{name}": text for name, text in files.items()})
    return tree


def rendered_boxes(plan: Plan) -> list[RenderedBox]:
    """Every router and reflector as the verifier reads it back."""
    carried = families(plan)
    routers = [
        _rendered(
            of_router(r),
            "router",
            r,
            carried,
            as_path=(r.fabric_asn,) if r.ebgp else (),
        )
        for r in plan.routers
    ]
    reflectors = [
        _rendered(of_reflector(r), "reflector", r, carried, lb_range=r.pod_range)
        for r in plan.reflectors
    ]
    return routers + reflectors


def _rendered(
    implementation: Implementation[Box],
    kind: str,
    box: Box,
    carried: tuple[str, ...],
    **more: Any,
) -> RenderedBox:
    return RenderedBox(
        kind,
        box.name,
        implementation.config,
        implementation.read,
        box.address,
        box,
        carried,
        discards=implementation.discards,
        sysctl=implementation.sysctl,
        **more,
    )
