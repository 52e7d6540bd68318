"""lbgen/runtime/agent/routes.py: the node agent's decisions: which LB pods get a route on this
node, per family (an IPv6-only cluster's pods by their IPv6 address), and the commands. Only
the plan's prefixes, never an annotation's; only this fabric's routes are pruned."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import Any

from lbgen.plan import AgentConfig, Plan
from lbgen.runtime.agent.routes import Allowed, desired_routes, installed_routes, route_commands

ALLOWED = Allowed({"web1": IPv4Network("10.1.1.0/24"), "web2": IPv4Network("10.1.2.0/24")})


WEB1, WEB2 = IPv4Network("10.1.1.0/24"), IPv4Network("10.1.2.0/24")


WEB1_6 = IPv6Network("2001:db8:1::/64")


def pod(
    name: str,
    node: str,
    ip: str | None,
    service: str | None = "web1",
    *,
    phase: str = "Running",
    deleting: bool = False,
    annotation: str | None = None,
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": name,
        "labels": {"lbgen.io/service": service} if service else {},
        "annotations": {"lbgen.io/prefix": annotation} if annotation else {},
    }
    if deleting:
        meta["deletionTimestamp"] = "2026-11-26T10:00:00Z"
    return {
        "metadata": meta,
        "spec": {"nodeName": node},
        "status": {"phase": phase, **({"podIP": ip} if ip else {})},
    }


def test_only_running_lb_pods_of_this_node_with_an_ip_get_a_route() -> None:
    pods = [
        pod("lb-web1-a", "node4", "172.16.4.2"),
        pod("lb-web2-a", "node4", "172.16.4.3", "web2"),
        pod("lb-web1-b", "node5", "172.16.5.2"),
        pod("lb-web2-b", "node4", None, "web2"),
        pod("lb-web3-a", "node4", "172.16.4.9", "web1", phase="Pending"),
        pod("stray", "node4", "172.16.4.7", None),
    ]
    routes, refused = desired_routes(pods, "node4", ALLOWED)
    assert routes == {WEB1: IPv4Address("172.16.4.2"), WEB2: IPv4Address("172.16.4.3")}
    assert refused == 2  # no IP; no service


def test_an_annotation_decides_nothing_not_even_a_default_route() -> None:
    """The attack measured in a netns: a pod annotated with 0.0.0.0/0 replaced the node's
    default route. The prefix comes from the plan, by the pod's service."""
    hostile = pod("lb-web1-a", "node4", "172.16.4.2", annotation="0.0.0.0/0")
    unknown = pod("lb-evil", "node4", "172.16.4.66", "not-a-service", annotation="0.0.0.0/0")
    routes, refused = desired_routes([hostile, unknown], "node4", ALLOWED)
    assert routes == {WEB1: IPv4Address("172.16.4.2")}
    assert refused == 1


def test_a_config_prefix_that_would_hurt_the_node_is_never_allowed() -> None:
    config = AgentConfig(
        header="h",
        source="s",
        fabric="f",
        namespace="lbgen-system",
        node_network=IPv4Network("10.0.0.0/16"),
        pod_network=IPv4Network("172.16.0.0/16"),
        prefixes=(
            ("default", IPv4Network("0.0.0.0/0")),
            ("nodes", IPv4Network("10.0.1.0/24")),
            ("pods", IPv4Network("172.16.0.0/12")),
            ("web1", WEB1),
        ),
        prefixes6=(
            ("default6", IPv6Network("::/0")),
            ("pods6", IPv6Network("fd00:10::/48")),
            ("web1", WEB1_6),
        ),
        node_network6=IPv6Network("fd00::/64"),
        pod_network6=IPv6Network("fd00:10::/56"),
    )
    allowed = Allowed.from_config(config)
    assert allowed.prefixes == {"web1": WEB1}
    assert allowed.prefixes6 == {"web1": WEB1_6}


def test_a_dual_stack_pod_gets_a_route_per_family_via_its_address_of_that_family() -> None:
    allowed = Allowed({"web1": WEB1}, {"web1": WEB1_6})
    dual = pod("lb-web1-a", "n", "172.16.4.2")
    dual["status"]["podIPs"] = [{"ip": "172.16.4.2"}, {"ip": "fd00:10:4::2"}]
    single = pod("lb-web1-b", "m", "172.16.5.2")
    routes, refused = desired_routes([dual, single], "n", allowed)
    assert routes == {WEB1: IPv4Address("172.16.4.2"), WEB1_6: IPv6Address("fd00:10:4::2")}
    assert refused == 0
    # a pod of a dual-stack service with no IPv6 address: its IPv4 route, and counted
    routes, refused = desired_routes([single], "m", allowed)
    assert routes == {WEB1: IPv4Address("172.16.5.2")}
    assert refused == 1
    commands = route_commands({}, {WEB1_6: IPv6Address("fd00:10:4::2")})
    assert commands == [
        ["ip", "route", "replace", "2001:db8:1::/64", "via", "fd00:10:4::2", "proto", "249"]
    ]


def test_a_terminating_pod_keeps_its_route_while_its_flows_drain() -> None:
    routes, _ = desired_routes([pod("lb-web1-a", "n", "172.16.4.2", deleting=True)], "n", ALLOWED)
    assert routes == {WEB1: IPv4Address("172.16.4.2")}


def test_two_pods_claiming_one_prefix_resolve_the_same_way_every_time() -> None:
    pods = [pod("lb-b", "n", "172.16.4.3"), pod("lb-a", "n", "172.16.4.2")]
    assert (
        desired_routes(pods, "n", ALLOWED)
        == desired_routes(list(reversed(pods)), "n", ALLOWED)
        == ({WEB1: IPv4Address("172.16.4.2")}, 0)
    )


def test_commands_replace_changed_routes_and_delete_only_this_fabrics_stale_ones() -> None:
    installed = installed_routes(
        [
            {"dst": "10.1.1.0/24", "gateway": "172.16.4.2"},
            {"dst": "10.1.2.0/24", "gateway": "172.16.4.3"},
            {"dst": "10.9.9.0/24", "gateway": "172.16.4.9"},  # another fabric's
        ],
        ALLOWED,
    )
    assert IPv4Network("10.9.9.0/24") not in installed
    desired = {WEB1: IPv4Address("172.16.4.2")}
    assert route_commands(installed, desired) == [
        ["ip", "route", "del", "10.1.2.0/24", "proto", "249"],
    ]
    assert route_commands(desired, desired) == []


def test_the_node_agent_routes_each_prefix_to_the_pods_ipv6_address(six_plan: Plan) -> None:
    allowed = Allowed({}, {s.name: s.prefix6 for s in six_plan.services if s.prefix6})
    pod = {
        "metadata": {"name": "web-1", "labels": {"lbgen.io/service": "web"}},
        "spec": {"nodeName": "n1"},
        "status": {"phase": "Running", "podIP": "fd00:71:0:1::a"},
    }
    stranger = {**pod, "metadata": {"name": "x", "labels": {"lbgen.io/service": "nope"}}}
    routes, refused = desired_routes([pod, stranger], "n1", allowed)
    assert routes == {IPv6Network("2001:db8:70::/64"): IPv6Address("fd00:71:0:1::a")}
    assert refused == 1
