"""LB101: names that must be unique (they name output folders and Kubernetes objects)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from lbgen.diagnostics import Diagnostic, SpecPath, finding, format_path
from lbgen.spec import Fabric


def check(fabric: Fabric) -> Iterator[Diagnostic]:
    spec = fabric.spec
    yield from _unique(("spec", "nodes"), (n.name for n in spec.nodes), "node")
    yield from _unique(("spec", "routers"), (r.name for r in spec.routers), "router")
    yield from _unique(("spec", "reflectors"), (r.name for r in spec.reflectors), "reflector")
    yield from _unique(("spec", "services"), (s.name for s in spec.services), "service")
    for index, service in enumerate(spec.services):
        yield from _unique(
            ("spec", "services", index, "ports"), (p.name for p in service.ports), "port"
        )


def _unique(base: SpecPath, names: Iterable[str], kind: str) -> Iterator[Diagnostic]:
    first: dict[str, int] = {}
    for index, name in enumerate(names):
        if name in first:
            yield finding(
                "LB101",
                (*base, index, "name"),
                f"{kind} name {name!r} is already used by {format_path((*base, first[name]))}",
                f"give each {kind} its own name",
                (*base, first[name], "name"),
            )
        else:
            first[name] = index
