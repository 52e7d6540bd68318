"""The plan resolves every default and places LBs deterministically."""

from __future__ import annotations

from ipaddress import IPv4Address

from lbgen.compiler import compile_file
from tests.conftest import CASES, ROOT


def test_paper_places_web1_on_three_lb_nodes_and_web2_on_two_of_them() -> None:
    plan = compile_file(ROOT / "examples/paper.yaml", "paper.yaml").plan
    assert plan is not None
    placement = {s.name: s.placement for s in plan.services}
    assert placement == {"web1": ("node4", "node5", "node6"), "web2": ("node4", "node5")}
    assert {n.name: n.load_balancers for n in plan.nodes}["node4"] == ("web1", "web2")
    assert plan.reflectors[0].add_paths_send_max == 3


def test_defaults_are_resolved_in_the_plan() -> None:
    plan = compile_file(CASES / "valid/minimal-defaults/spec.yaml", "spec.yaml").plan
    assert plan is not None
    shop = plan.services[0]
    assert shop.vips == (IPv4Address("203.0.113.1"),)
    assert shop.scheduler == "mh"
    assert shop.backend.namespace == "default"
    assert shop.replicas == 2
    assert plan.routers[0].router_id == IPv4Address("192.168.10.1")
    assert plan.reflectors[0].cluster_id == IPv4Address("192.168.10.2")
    assert (plan.timers.hold_time, plan.timers.keepalive) == (9, 3)


def test_the_plan_round_trips_through_json_for_the_lb_pod() -> None:
    plan = compile_file(ROOT / "examples/paper.yaml", "paper.yaml").plan
    assert plan is not None
    assert type(plan).model_validate_json(plan.model_dump_json()) == plan
