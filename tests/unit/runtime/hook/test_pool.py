"""lbgen/runtime/hook/pool.py: from EndpointSlices to keepalived's pools: ready, draining and
out; ports resolved as kube-proxy does; one order on every LB; a dual-stack service's pool per
family; malformed items skipped and named, never fatal; a slice parsed again only when it
changes."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address

import pytest

from lbgen.plan import PortPlan, ServicePlan
from lbgen.render.keepalived import RealServer
from lbgen.runtime.hook.pool import (
    MemberCache,
    count,
    pooled,
    pools_from_members,
    pools_from_slices,
    slice_members,
)
from lbgen.testbed.model.slices import endpoint, endpoint_slice
from tests.support.hookrig import paper_pod

HTTP = ("http", "TCP")


def six(name: str, addresses: list[str]) -> dict[str, object]:
    item = endpoint_slice(name, [endpoint(a) for a in addresses], service="web-app")
    item["addressType"] = "IPv6"
    return item


SERVICE = paper_pod().service


def rs(ip: str, weight: int = 1) -> RealServer:
    return RealServer(IPv4Address(ip), 8080, weight)


def _dns() -> ServicePlan:
    """A UDP and a TCP port whose targets share one name, as a DNS backend's do."""
    service = paper_pod().service
    ports = (
        PortPlan(name="dns-udp", port=53, protocol="UDP", target_port="dns"),
        PortPlan(name="dns-tcp", port=53, protocol="TCP", target_port="dns"),
    )
    return service.model_copy(update={"ports": ports})


HOSTILE_SLICES = {
    "leading zeros": {"endpoints": [{"addresses": ["010.016.001.005"], "conditions": {}}]},
    "an IPv6 address in an IPv4 slice": {"endpoints": [{"addresses": ["fd00::1"]}]},
    "endpoints as a string": {"endpoints": "172.16.0.3"},
    "conditions as a list": {"endpoints": [{"addresses": ["172.16.0.4"], "conditions": []}]},
    "the port as a string": {"ports": [{"name": "http", "port": "8080", "protocol": "TCP"}]},
    "addresses as a string": {"endpoints": [{"addresses": "172.16.0.4"}]},
    "an endpoint as a number": {"endpoints": [7]},
    "ports as a mapping": {"ports": {"name": "http"}},
    "a protocol nobody speaks": {"ports": [{"name": "http", "port": 8080, "protocol": "QUIC"}]},
}


def test_the_pool_takes_the_ipv6_slices_of_a_dual_stack_service_only(dual_web: ServicePlan) -> None:
    slices = [
        endpoint_slice("v4", [endpoint("10.60.2.100")], service="web-app"),
        six("v6", ["fd00:61:0:2::100", "fd00:61:0:1::100", "fe80::1%eth0"]),
    ]
    pools = pools_from_slices(slices, dual_web)
    assert [s.address for s in pools[HTTP]] == [
        IPv4Address("10.60.2.100"),
        IPv6Address("fd00:61:0:1::100"),
        IPv6Address("fd00:61:0:2::100"),
    ]
    ipv4_only = dual_web.model_copy(update={"prefix6": None, "vips6": ()})
    assert [s.address for s in pools_from_slices(slices, ipv4_only)[HTTP]] == [
        IPv4Address("10.60.2.100")
    ]


@pytest.mark.parametrize("address", ["::1", "::", "fe80::1", "ff02::1"])
def test_an_ipv6_endpoint_no_backend_can_hold_is_skipped(
    dual_web: ServicePlan, address: str
) -> None:
    pools = pools_from_slices([six("v6", [address, "fd00:61:0:2::100"])], dual_web)
    assert [s.address for s in pools[HTTP]] == [IPv6Address("fd00:61:0:2::100")]


def test_ready_endpoints_are_in_terminating_serving_ones_drain_the_rest_are_out() -> None:
    pools = pools_from_slices(
        [
            endpoint_slice(
                "s",
                [
                    endpoint("172.16.0.9"),
                    endpoint("172.16.0.3", ready=None),  # unknown counts as ready
                    endpoint("172.16.0.5", ready=False),
                    endpoint("172.16.0.7", ready=False, serving=True, terminating=True),
                    endpoint("172.16.0.8", ready=False, serving=False, terminating=True),
                ],
            )
        ],
        SERVICE,
    )
    assert pools == {HTTP: (rs("172.16.0.3"), rs("172.16.0.7", 0), rs("172.16.0.9"))}
    assert count(pools).ready == 2
    assert count(pools).draining == 1


def test_every_lb_gets_the_same_order_whatever_the_order_of_slices() -> None:
    a = endpoint_slice("a", [endpoint("172.16.0.20"), endpoint("172.16.0.3")])
    b = endpoint_slice("b", [endpoint("172.16.0.100")])
    assert pools_from_slices([a, b], SERVICE) == pools_from_slices([b, a], SERVICE)
    assert [s.address for s in pools_from_slices([b, a], SERVICE)[HTTP]] == [
        IPv4Address("172.16.0.3"),
        IPv4Address("172.16.0.20"),
        IPv4Address("172.16.0.100"),
    ]


def test_an_endpoint_moving_between_slices_counts_once_at_its_better_weight() -> None:
    old = endpoint_slice("a", [endpoint("172.16.0.3", ready=False, serving=True, terminating=True)])
    new = endpoint_slice("b", [endpoint("172.16.0.3")])
    assert pools_from_slices([old, new], SERVICE) == {HTTP: (rs("172.16.0.3"),)}


def test_other_ports_protocols_and_address_families_are_ignored() -> None:
    other = endpoint_slice("a", [endpoint("172.16.0.3")])
    other["ports"] = [
        {"name": "metrics", "port": 9090, "protocol": "TCP"},
        {"name": "http", "port": 8080, "protocol": "UDP"},
    ]
    v6 = endpoint_slice("b", [endpoint("fd00::1")])
    v6["addressType"] = "IPv6"
    assert pools_from_slices([other, v6], SERVICE) == {HTTP: ()}


def test_ports_are_resolved_by_name_and_protocol_as_kube_proxy_does() -> None:
    both = endpoint_slice("a", [endpoint("172.16.0.3")])
    both["ports"] = [
        {"name": "dns", "port": 5353, "protocol": "UDP"},
        {"name": "dns", "port": 5354, "protocol": "TCP"},
    ]
    pools = pools_from_slices([both], _dns())
    assert pools[("dns", "UDP")] == (RealServer(IPv4Address("172.16.0.3"), 5353, 1),)
    assert pools[("dns", "TCP")] == (RealServer(IPv4Address("172.16.0.3"), 5354, 1),)


def test_the_unnamed_port_of_a_single_port_service_is_a_target() -> None:
    unnamed = endpoint_slice("a", [endpoint("172.16.0.3")])
    unnamed["ports"] = [{"port": 8443, "protocol": "TCP"}]
    port = PortPlan(name="https", port=443, protocol="TCP", target_port="")
    service = paper_pod().service.model_copy(update={"ports": (port,)})
    assert pools_from_slices([unnamed], service) == {
        ("", "TCP"): (RealServer(IPv4Address("172.16.0.3"), 8443, 1),)
    }


def test_a_port_the_slices_do_not_list_is_unresolved_not_an_empty_pool() -> None:
    renamed = endpoint_slice("a", [endpoint("172.16.0.3")])
    renamed["ports"] = [{"name": "web", "port": 8080, "protocol": "TCP"}]
    found = pooled([slice_members(renamed)], SERVICE)
    assert found.unresolved == (HTTP,)
    # no endpoint at all is a pool that is empty for real
    assert pooled([slice_members(endpoint_slice("b", []))], SERVICE).unresolved == ()


@pytest.mark.parametrize("bad", HOSTILE_SLICES, ids=list(HOSTILE_SLICES))
def test_a_malformed_slice_item_is_skipped_and_named_never_fatal(bad: str) -> None:
    hostile = {**endpoint_slice("bad", [endpoint("172.16.0.9")]), **HOSTILE_SLICES[bad]}
    good = endpoint_slice("good", [endpoint("172.16.0.3")])
    members = [slice_members(hostile), slice_members(good)]
    assert members[0].skipped, bad
    found = pooled(members, SERVICE)
    assert IPv4Address("172.16.0.3") in {rs.address for rs in found.pools[HTTP]}
    assert members[1].skipped == ()


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "0.0.0.0",  # noqa: S104 -- an endpoint's address, not a bind
        "169.254.169.254",
        "224.0.0.1",
        "255.255.255.255",
    ],
)
def test_an_endpoint_no_backend_can_hold_is_skipped_and_named(address: str) -> None:
    """An EndpointSlice is anyone's with RBAC on it: 127.0.0.1 would point the VIP at the LB
    pod's own loopback, 169.254.169.254 at the node's metadata service."""
    members = slice_members(endpoint_slice("s", [endpoint(address), endpoint("172.16.0.3")]))
    assert members.skipped == (
        f"bad-address: {address} is not a unicast address a backend can hold",
    )
    assert [a for a, _ in members.endpoints] == [IPv4Address("172.16.0.3")]


def test_a_slice_that_is_not_a_mapping_is_skipped() -> None:
    assert slice_members("garbage").skipped == ("malformed-slice: not a mapping",)


def test_the_cache_parses_a_slice_again_only_when_its_version_changes() -> None:
    cache = MemberCache()
    one = endpoint_slice("a", [endpoint("172.16.0.3")])
    one["metadata"]["resourceVersion"] = "5"
    first = cache.members({"ns/a": one})
    assert cache.members({"ns/a": one})[0] is first[0]
    changed = endpoint_slice("a", [endpoint("172.16.0.4")])
    changed["metadata"]["resourceVersion"] = "6"
    assert pools_from_members(cache.members({"ns/a": changed}), SERVICE) == {
        HTTP: (rs("172.16.0.4"),)
    }
    assert cache.members({}) == []
    assert cache.parsed == {}
