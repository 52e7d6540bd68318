"""Checks of the rendered output itself, across boxes: what the daemons' dry runs let through.

The renderers are trusted by nobody: each router and reflector file is parsed back into a neutral
description of its BGP speaker, and the sessions the plan implies are checked end to end. Which
reader, discard rule and sysctl.conf each box has is its implementation's description
(lbgen.implementations), handed in as `boxes`."""

from __future__ import annotations

from collections.abc import Sequence

from lbgen.diagnostics import Diagnostic
from lbgen.plan import Plan, RouterPlan
from lbgen.verify.discard import check_discards
from lbgen.verify.read import RenderedBox, read_speakers
from lbgen.verify.sessions import check_sessions
from lbgen.verify.sysctl import check_sysctl


def verify_tree(
    plan: Plan, tree: dict[str, str], boxes: Sequence[RenderedBox]
) -> list[Diagnostic]:
    speakers, found = read_speakers(boxes, tree)
    found.extend(check_sessions(plan, speakers))
    found.extend(check_sysctl(plan, tree, [(b.kind, b.name) for b in boxes if b.sysctl]))
    found.extend(
        check_discards(
            (
                (b.box, b.folder, b.discards)
                for b in boxes
                if isinstance(b.box, RouterPlan) and b.discards is not None
            ),
            tree,
        )
    )
    return found
