"""An `lbgen router-fib` config for a namespace of a test's or a bench's own: the spec's
default resilientEcmp and drain over the given prefixes, as a router of the plan would get it."""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Network, IPv6Network

from lbgen.plan import RouterFibConfig
from lbgen.plan.boxes import resilient_plan
from lbgen.render.fib import router_fib_config
from lbgen.spec.boxes import ResilientEcmp
from lbgen.spec.model import Kubernetes


def fib_config(prefixes: Sequence[IPv4Network | IPv6Network]) -> RouterFibConfig:
    resilient = resilient_plan(ResilientEcmp(), Kubernetes().drain_seconds)
    assert resilient is not None
    return router_fib_config("router", resilient, prefixes, "tests.support.fibrig")
