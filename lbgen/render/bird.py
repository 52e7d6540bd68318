"""BIRD 2: an upstream router's bird.conf (routers[].implementation: bird): the sessions with
the reflectors, add-paths receive and multipath into the kernel, the same second wall and discard
routes as the FRR router, and the password lines `lbgen box-config` adds on the box."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lbgen.errors import LbgenError
from lbgen.plan import BoxPassword, RouterPlan
from lbgen.render.frr import FAMILIES, Accept, HopList, prefix_lists, router_filters
from lbgen.render.text import header, render_template


def symbol(name: str) -> str:
    """A BIRD symbol for one of lbgen's names (a DNS label: `-` becomes `_`, which a label
    never holds, so two names never meet)."""
    return name.replace("-", "_")


@dataclass(frozen=True)
class Filter:
    """One family's import filter: its accepts, in the plan's group order."""

    version: int
    accepts: tuple[Accept, ...]


def _filters(router: RouterPlan) -> tuple[list[HopList], list[Filter]]:
    hops, accepts = router_filters(router)
    filters = [
        Filter(family.version, tuple(a for a in accepts if a.prefixes.family == family))
        for family in FAMILIES
        if f"ipv{family.version}" in router.families
    ]
    return hops, filters


def render_bird_conf(router: RouterPlan, source: str) -> str:
    hop_lists, filters = _filters(router)
    return render_template(
        "bird/bird.conf.j2",
        header=header(source, "#"),
        router=router,
        prefix_lists=prefix_lists(router.groups),
        hop_lists=hop_lists,
        filters=filters,
        symbol=symbol,
        discards=router.prefixes,
    )


def render_bird_passwords(compiled: str, passwords: Sequence[tuple[BoxPassword, str]]) -> str:
    """bird.conf as `lbgen box-config` makes it on the box: each session's password line
    after its `neighbor` line (BIRD takes a password only inside its protocol block). They
    never reach out/ or git."""
    lines = compiled.splitlines(keepends=True)
    for entry, password in passwords:
        mark = f"  neighbor {entry.neighbor} as "
        at = next((i for i, line in enumerate(lines) if line.startswith(mark)), None)
        if at is None:
            raise LbgenError(
                f"bird.conf has no session with {entry.neighbor}, whose password "
                "passwords.json names: rebuild out/ with lbgen build"
            )
        lines.insert(at + 1, f'  password "{password}";\n')
    return "".join(lines)
