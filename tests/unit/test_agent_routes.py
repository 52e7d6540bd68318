"""The node agent's decisions: which LB pods get a route on this node, and the commands."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network
from typing import Any

from lbgen.agent.routes import desired_routes, installed_routes, route_commands


def pod(
    name: str,
    node: str,
    ip: str | None,
    prefix: str | None = "10.1.1.0/24",
    *,
    phase: str = "Running",
    deleting: bool = False,
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": name,
        "annotations": {"lbgen.io/prefix": prefix} if prefix else {},
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
        pod("lb-web2-a", "node4", "172.16.4.3", "10.1.2.0/24"),
        pod("lb-web1-b", "node5", "172.16.5.2"),
        pod("lb-web2-b", "node4", None, "10.1.2.0/24"),
        pod("lb-web3-a", "node4", "172.16.4.9", "10.1.3.0/24", phase="Pending"),
        pod("stray", "node4", "172.16.4.7", None),
    ]
    assert desired_routes(pods, "node4") == {
        IPv4Network("10.1.1.0/24"): IPv4Address("172.16.4.2"),
        IPv4Network("10.1.2.0/24"): IPv4Address("172.16.4.3"),
    }


def test_a_terminating_pod_keeps_its_route_while_its_flows_drain() -> None:
    assert desired_routes([pod("lb-web1-a", "n", "172.16.4.2", deleting=True)], "n") == {
        IPv4Network("10.1.1.0/24"): IPv4Address("172.16.4.2")
    }


def test_two_pods_claiming_one_prefix_resolve_the_same_way_every_time() -> None:
    pods = [pod("lb-b", "n", "172.16.4.3"), pod("lb-a", "n", "172.16.4.2")]
    assert (
        desired_routes(pods, "n")
        == desired_routes(list(reversed(pods)), "n")
        == {IPv4Network("10.1.1.0/24"): IPv4Address("172.16.4.2")}
    )


def test_commands_replace_changed_routes_and_delete_stale_ones_only() -> None:
    installed = installed_routes(
        [
            {"dst": "10.1.1.0/24", "gateway": "172.16.4.2"},
            {"dst": "10.1.2.0/24", "gateway": "172.16.4.3"},
            {"dst": "10.1.9.0/24", "gateway": "172.16.4.9"},
        ]
    )
    desired = {
        IPv4Network("10.1.1.0/24"): IPv4Address("172.16.4.2"),
        IPv4Network("10.1.2.0/24"): IPv4Address("172.16.4.8"),
    }
    assert route_commands(installed, desired) == [
        ["ip", "route", "replace", "10.1.2.0/24", "via", "172.16.4.8", "proto", "249"],
        ["ip", "route", "del", "10.1.9.0/24", "proto", "249"],
    ]
    assert route_commands(desired, desired) == []
