"""Semantic checks of a schema-valid spec: every finding at once, each with a stable code."""

from __future__ import annotations

from lbgen.checks import (
    addressing,
    bgp,
    cluster,
    families,
    names,
    placement,
    resilient,
    services,
    special,
)
from lbgen.diagnostics import Diagnostic
from lbgen.spec import Fabric

CHECKS = (
    names.check,
    special.check,
    addressing.check,
    services.check,
    families.check,
    bgp.check,
    resilient.check,
    placement.check,
    cluster.check,
)


def run_checks(fabric: Fabric) -> list[Diagnostic]:
    """All findings of all checks; the caller locates and sorts them."""
    return [finding for check in CHECKS for finding in check(fabric)]
