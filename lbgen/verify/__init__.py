"""Checks of the rendered output itself, across boxes: what the daemons' dry runs let through.

The renderers are trusted by nobody: each router and reflector file is parsed back into a neutral
description of its BGP speaker, and the sessions the plan implies are checked end to end."""

from __future__ import annotations

from lbgen.errors import Diagnostic
from lbgen.plan import Plan
from lbgen.verify.discard import check_discards
from lbgen.verify.read import read_speakers
from lbgen.verify.sessions import check_sessions
from lbgen.verify.sysctl import check_sysctl


def verify_tree(plan: Plan, tree: dict[str, str]) -> list[Diagnostic]:
    speakers, found = read_speakers(plan, tree)
    found.extend(check_sessions(plan, speakers))
    found.extend(check_sysctl(plan, tree))
    found.extend(check_discards(plan, tree))
    return found
