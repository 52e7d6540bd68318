"""Plans of the examples that more than one module's tests read: the dual-stack fabric's web
service, the IPv6-only fabric and its web service, the edge fabric's tree and its dns service's
lb.json (sessions with passwords)."""

from __future__ import annotations

import pytest

from lbgen.compiler import compile_file
from lbgen.plan import Plan, PodConfig, ServicePlan
from tests.conftest import ROOT


@pytest.fixture(scope="session")
def dual_web() -> ServicePlan:
    """examples/dualstack.yaml's web: a prefix and VIPs in each family."""
    plan = compile_file(ROOT / "examples/dualstack.yaml", "examples/dualstack.yaml").plan
    assert plan is not None
    return next(s for s in plan.services if s.name == "web")


@pytest.fixture(scope="session")
def six_plan() -> Plan:
    """examples/ipv6.yaml: an IPv6-only cluster."""
    found = compile_file(ROOT / "examples/ipv6.yaml", "examples/ipv6.yaml").plan
    assert found is not None
    return found


@pytest.fixture(scope="session")
def six_web(six_plan: Plan) -> ServicePlan:
    return next(s for s in six_plan.services if s.name == "web")


EdgeDns = tuple[dict[str, str], PodConfig]


@pytest.fixture(scope="session")
def edge_dns() -> EdgeDns:
    """examples/edge.yaml's tree, and its dns service's lb.json as the pod reads it."""
    result = compile_file(ROOT / "examples/edge.yaml", "examples/edge.yaml")
    assert result.tree is not None
    config = PodConfig.model_validate_json(result.tree["cluster/services/dns/lb.json"])
    return result.tree, config
