"""What `lbgen router-fib` decides from what the kernel lists (pure): zebra's routes of the
plan's prefixes only, router-fib's own objects only, and the fewest `ip` lines between them."""

from __future__ import annotations

from ipaddress import ip_network

from lbgen.plan import RouterFibConfig
from lbgen.runtime.fib.groups import (
    GROUP_IDS,
    MEMBER_IDS,
    PROTO,
    TWIN,
    Held,
    batch,
    held,
    owned_by_text,
    twinned,
    wanted,
    zebra_routes,
)

P1, P2 = ip_network("10.1.1.0/24"), ip_network("10.1.2.0/24")


CONFIG = RouterFibConfig.model_validate(
    {
        "header": "h",
        "source": "s",
        "router": "r",
        "buckets": 256,
        "idle_timer": 120,
        "unbalanced_timer": 0,
        "table": 4242,
        "fwmark": 0x4C42,
        "rule_priority": 10042,
        "lease_ms": 1000,
        "pin_seconds": 10,
        "route_protocol": 186,
        "prefixes": ["10.1.1.0/24", "10.1.2.0/24"],
        "prefixes6": [],
    }
)


OWNED = owned_by_text([P1, P2])


A, B, C = ("10.0.0.104", "eth0"), ("10.0.0.105", "eth0"), ("10.0.0.106", "eth0")


M = MEMBER_IDS.start


T = TWIN  # a member's twin: its id + T


G = GROUP_IDS.start


ARGS = f"type resilient buckets 256 idle_timer 120 unbalanced_timer 0 proto {PROTO}"


def _zebra(dst: str, *hops: tuple[str, str]) -> dict[str, object]:
    return {"dst": dst, "nexthops": [{"gateway": g, "dev": d, "weight": 1} for g, d in hops]}


def _holding(*members: tuple[tuple[str, str], int]) -> Held:
    return Held(
        members=dict(members),
        twins={nid for _, nid in members},
        groups={G: twinned((nid, 1) for _, nid in members)},
        settings={G: (256, 120, 0)},
        routes={P1: G},
    )


def test_only_the_plans_prefixes_and_readable_next_hops_are_followed() -> None:
    listing = [
        _zebra("10.1.1.0/24", A, B),
        {"dst": "10.1.2.0/24", "gateway": "10.0.0.104", "dev": "eth0"},  # one path
        _zebra("0.0.0.0/0", A),  # default route: not the plan's
        {"dst": "10.1.1.0/25", "gateway": "10.0.0.104", "dev": "eth0"},  # more specific
        {"dst": "not a prefix"},
        {"dst": "10.1.2.0/24", "nexthops": ["junk", {"gateway": "x"}]},  # nothing usable
    ]
    found = wanted(zebra_routes(listing, OWNED))
    assert found == {P1: ((A, 1), (B, 1)), P2: ((A, 1),)}


def test_a_host_route_is_matched_as_iproute2_shows_it_without_a_length() -> None:
    host = ip_network("10.1.3.7/32")
    listing = [{"dst": "10.1.3.7", "gateway": "10.0.0.104", "dev": "eth0"}]
    assert wanted(zebra_routes(listing, owned_by_text([host]))) == {host: ((A, 1),)}


def test_a_weight_the_kernel_would_refuse_counts_as_one() -> None:
    hop = {"gateway": "10.0.0.104", "dev": "eth0", "weight": 9000}
    found = zebra_routes([{"dst": "10.1.1.0/24", "nexthops": [hop]}], OWNED)
    assert wanted(found) == {P1: ((A, 1),)}


def test_a_new_prefix_gets_members_a_group_and_a_route_in_the_agents_table() -> None:
    lines, after = batch(CONFIG, {P1: ((A, 1), (B, 1))}, Held())
    assert lines == [
        f"nexthop add id {M} via 10.0.0.104 dev eth0 proto {PROTO}",
        f"nexthop add id {M + 1} via 10.0.0.105 dev eth0 proto {PROTO}",
        f"nexthop add id {M + T} via 10.0.0.104 dev eth0 proto {PROTO}",
        f"nexthop add id {M + 1 + T} via 10.0.0.105 dev eth0 proto {PROTO}",
        f"nexthop add id {G} group {M},1/{M + 1},1/{M + T},1/{M + 1 + T},1 {ARGS}",
        f"route replace 10.1.1.0/24 nhid {G} table 4242 proto {PROTO}",
    ]
    # what it holds then: converged, the next look needs no line
    assert after.routes == {P1: G}
    assert batch(CONFIG, {P1: ((A, 1), (B, 1))}, after)[0] == []


def test_a_member_gone_changes_the_group_in_place_and_drops_its_object() -> None:
    now = _holding((A, M), (B, M + 1), (C, M + 2))
    assert batch(CONFIG, {P1: ((A, 1), (C, 1))}, now)[0] == [
        f"nexthop replace id {G} group {M},1/{M + 2},1/{M + T},1/{M + 2 + T},1 {ARGS}",
        f"nexthop del id {M + 1 + T}",
        f"nexthop del id {M + 1}",
    ]


def test_a_route_of_one_lb_is_still_a_group_of_two_paths() -> None:
    """The kernel forwards a one-path route without hashing: no bucket would be marked busy,
    and the second LB's return would move the flows of every bucket that changed hands."""
    now = _holding((A, M), (B, M + 1))
    lines, after = batch(CONFIG, {P1: ((A, 1),)}, now, keep=[B])
    assert lines == [f"nexthop replace id {G} group {M},1/{M + T},1 {ARGS}"]
    assert len(after.groups[G]) == 2


def test_an_agent_before_twins_left_members_that_get_theirs_in_place() -> None:
    now = _holding((A, M), (B, M + 1))
    now.twins.clear()
    now.groups[G] = ((M, 1), (M + 1, 1))
    assert batch(CONFIG, {P1: ((A, 1), (B, 1))}, now)[0] == [
        f"nexthop add id {M + T} via 10.0.0.104 dev eth0 proto {PROTO}",
        f"nexthop add id {M + 1 + T} via 10.0.0.105 dev eth0 proto {PROTO}",
        f"nexthop replace id {G} group {M},1/{M + 1},1/{M + T},1/{M + 1 + T},1 {ARGS}",
    ]


def test_converged_means_no_line_at_all() -> None:
    now = _holding((A, M), (B, M + 1))
    assert batch(CONFIG, {P1: ((A, 1), (B, 1))}, now)[0] == []


def test_settings_the_kernel_cannot_change_in_place_make_a_new_group() -> None:
    now = _holding((A, M), (B, M + 1))
    now.settings[G] = (128, 120, 0)
    assert batch(CONFIG, {P1: ((A, 1), (B, 1))}, now)[0] == [
        f"nexthop add id {G + 1} group {M},1/{M + 1},1/{M + T},1/{M + 1 + T},1 {ARGS}",
        f"route replace 10.1.1.0/24 nhid {G + 1} table 4242 proto {PROTO}",
        f"nexthop del id {G}",
    ]


def test_a_prefix_zebra_no_longer_routes_leaves_the_agents_table() -> None:
    now = _holding((A, M))
    assert batch(CONFIG, {}, now)[0] == [
        "route del 10.1.1.0/24 table 4242",
        f"nexthop del id {G}",
        f"nexthop del id {M + T}",
        f"nexthop del id {M}",
    ]


def test_only_the_agents_own_objects_are_read_as_its() -> None:
    nexthops = [
        {"id": M, "gateway": "10.0.0.104", "dev": "eth0", "protocol": PROTO},
        {"id": 15, "gateway": "10.0.0.105", "dev": "eth0", "protocol": "zebra"},  # zebra's
        {"id": M + 1, "gateway": "10.0.0.105", "dev": "eth0", "protocol": "zebra"},
        {"id": M + T, "gateway": "10.0.0.104", "dev": "eth0", "protocol": PROTO},  # its twin
        {"id": G, "group": [{"id": M}], "protocol": PROTO, "resilient_args": {"buckets": 256}},
        {"id": "junk", "protocol": PROTO},
    ]
    routes = [
        {"dst": "10.1.1.0/24", "nhid": G},
        {"dst": "10.1.2.0/24", "nhid": 15},  # not one of its groups
        {"dst": "junk", "nhid": G},
    ]
    state = held(nexthops, routes, OWNED)
    assert state.members == {A: M}
    assert state.twins == {M}
    assert state.groups == {G: ((M, 1),)}
    assert state.routes == {P1: G}


def test_a_reported_change_compares_only_the_prefixes_it_names() -> None:
    _, now = batch(CONFIG, {P1: ((A, 1), (B, 1)), P2: ((A, 1), (B, 1))}, Held())
    # P2 disagrees too, but only P1 was reported: its cost grows with the change, not the table
    lines, after = batch(CONFIG, {P1: ((A, 1),), P2: ((C, 1),)}, now, only={P1})
    assert lines == [f"nexthop replace id {G} group {M},1/{M + T},1 {ARGS}"]
    assert after.routes == now.routes
    assert after.members == now.members  # B is still in P2's group: never deleted under it
    # a full round then finds P2, and B no longer used
    lines, _ = batch(CONFIG, {P1: ((A, 1),), P2: ((C, 1),)}, after)
    assert lines == [
        f"nexthop add id {M + 2} via 10.0.0.106 dev eth0 proto {PROTO}",
        f"nexthop add id {M + 2 + T} via 10.0.0.106 dev eth0 proto {PROTO}",
        f"nexthop replace id {G + 1} group {M + 2},1/{M + 2 + T},1 {ARGS}",
        f"nexthop del id {M + 1 + T}",
        f"nexthop del id {M + 1}",
    ]
