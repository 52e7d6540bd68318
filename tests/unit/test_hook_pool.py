"""From EndpointSlices to pools, and how bursts become reloads."""

from __future__ import annotations

import threading
from ipaddress import IPv4Address

from lbgen.hook.coalesce import Coalescer
from lbgen.hook.pool import MemberCache, count, pools_from_members, pools_from_slices
from lbgen.render.keepalived import RealServer
from tests.hookrig import endpoint, endpoint_slice, paper_pod

SERVICE = paper_pod().service


def rs(ip: str, weight: int = 1) -> RealServer:
    return RealServer(IPv4Address(ip), 8080, weight)


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
    assert pools == {"http": (rs("172.16.0.3"), rs("172.16.0.7", 0), rs("172.16.0.9"))}
    assert count(pools).ready == 2
    assert count(pools).draining == 1


def test_every_lb_gets_the_same_order_whatever_the_order_of_slices() -> None:
    a = endpoint_slice("a", [endpoint("172.16.0.20"), endpoint("172.16.0.3")])
    b = endpoint_slice("b", [endpoint("172.16.0.100")])
    assert pools_from_slices([a, b], SERVICE) == pools_from_slices([b, a], SERVICE)
    assert [s.address for s in pools_from_slices([b, a], SERVICE)["http"]] == [
        IPv4Address("172.16.0.3"),
        IPv4Address("172.16.0.20"),
        IPv4Address("172.16.0.100"),
    ]


def test_an_endpoint_moving_between_slices_counts_once_at_its_better_weight() -> None:
    old = endpoint_slice("a", [endpoint("172.16.0.3", ready=False, serving=True, terminating=True)])
    new = endpoint_slice("b", [endpoint("172.16.0.3")])
    assert pools_from_slices([old, new], SERVICE) == {"http": (rs("172.16.0.3"),)}


def test_other_ports_protocols_and_address_families_are_ignored() -> None:
    other = endpoint_slice("a", [endpoint("172.16.0.3")])
    other["ports"] = [
        {"name": "metrics", "port": 9090, "protocol": "TCP"},
        {"name": "http", "port": 8080, "protocol": "UDP"},
    ]
    v6 = endpoint_slice("b", [endpoint("fd00::1")])
    v6["addressType"] = "IPv6"
    assert pools_from_slices([other, v6], SERVICE) == {"http": ()}


def test_the_cache_parses_a_slice_again_only_when_its_version_changes() -> None:
    cache = MemberCache()
    one = endpoint_slice("a", [endpoint("172.16.0.3")])
    one["metadata"]["resourceVersion"] = "5"
    first = cache.members({"ns/a": one})
    assert cache.members({"ns/a": one})[0] is first[0]
    changed = endpoint_slice("a", [endpoint("172.16.0.4")])
    changed["metadata"]["resourceVersion"] = "6"
    assert pools_from_members(cache.members({"ns/a": changed}), SERVICE) == {
        "http": (rs("172.16.0.4"),)
    }
    assert cache.members({}) == []
    assert cache.parsed == {}


def test_a_burst_within_the_minimum_interval_is_applied_once_with_the_latest_state() -> None:
    applied: list[int] = []
    done = threading.Event()

    def apply(state: int, _since: float) -> None:
        applied.append(state)
        if state == 99:
            done.set()

    coalescer: Coalescer[int] = Coalescer(apply, settle=0.001, min_interval=0.3)
    worker = threading.Thread(target=coalescer.run, daemon=True)
    worker.start()
    coalescer.submit(1)  # idle: applied after `settle`
    for state in range(2, 100):  # within min_interval: one apply, with the last state
        coalescer.submit(state)
    assert done.wait(5)
    coalescer.stop.set()
    worker.join(5)
    assert applied[0] in (1, 99)
    assert applied[-1] == 99
    assert len(applied) <= 2
