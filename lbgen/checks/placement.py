"""LB102, LB112, LB115: where each service's LBs may run."""

from __future__ import annotations

from collections.abc import Iterator

from lbgen.diagnostics import Diagnostic, finding
from lbgen.spec import Fabric
from lbgen.spec.selection import Eligibility


def check(fabric: Fabric) -> Iterator[Diagnostic]:
    spec = fabric.spec
    if not spec.services:
        yield finding(
            "LB115",
            ("spec", "services"),
            "no services: nothing will be announced",
            "add a service, or ignore this while the fabric is being set up",
        )
    known = {node.name for node in spec.nodes}
    eligibility = Eligibility(spec.nodes)
    for index, service in enumerate(spec.services):
        base = ("spec", "services", index, "loadBalancers")
        for position, name in enumerate(service.load_balancers.nodes or ()):
            if name not in known:
                yield finding(
                    "LB102",
                    (*base, "nodes", position),
                    f"unknown node {name!r}",
                    f"use one of: {', '.join(sorted(known))}",
                )
        eligible = eligibility(service)
        replicas = service.load_balancers.replicas
        if replicas > len(eligible):
            yield finding(
                "LB112",
                (*base, "replicas"),
                f"replicas {replicas} needs {replicas} eligible nodes (two LBs of a service "
                f"never share a node); {len(eligible)} found",
                "lower the replicas, or widen loadBalancers.nodes / nodeSelector",
            )
