"""What `lbgen router-fib` reads from the kernel's route notifications (pure): a followed
prefix's route in the main table, whole, with the weights of its next hops; anything else is
not its business, and anything it cannot be sure of asks for a listing."""

from __future__ import annotations

import socket
import struct
from ipaddress import ip_address, ip_network

from lbgen.runtime.fib.groups import Route
from lbgen.runtime.fib.netlink import (
    NLM_F_APPEND,
    RTA_DST,
    RTA_GATEWAY,
    RTA_MULTIPATH,
    RTA_OIF,
    RTA_PRIORITY,
    RTA_TABLE,
    RTM_DELROUTE,
    RTM_NEWROUTE,
    RTPROT_BGP,
    changes,
    follow,
)

P1, P6 = ip_network("10.1.1.0/24"), ip_network("2001:db8:1::/64")


OWNED = frozenset({P1, P6, ip_network("10.1.2.0/24")})


DEVICES = {3: "eth0", 4: "eth1"}


def _device(ifindex: int) -> str:
    """As socket.if_indextoname answers: OSError for an index the router does not have."""
    if ifindex not in DEVICES:
        raise OSError(6, "No such device or address")
    return DEVICES[ifindex]


A, B = ("10.0.0.104", "eth0"), ("10.0.0.105", "eth1")


RTPROT_STATIC, RTN_UNICAST, RTN_UNREACHABLE = 4, 1, 7


def _attr(kind: int, value: bytes) -> bytes:
    raw = struct.pack("=HH", 4 + len(value), kind) + value
    return raw + b"\0" * (-len(raw) % 4)


def _route(
    prefix: str,
    hops: list[tuple[str, int, int]],
    *,
    kind: int = RTM_NEWROUTE,
    protocol: int = RTPROT_BGP,
    table: int = 254,
    metric: int = 20,
    flags: int = 0,
    rtype: int = RTN_UNICAST,
) -> bytes:
    """A route message as the kernel sends it: (gateway, ifindex, weight) per next hop, one
    inline, several in RTA_MULTIPATH."""
    net = ip_network(prefix)
    family = socket.AF_INET if net.version == 4 else socket.AF_INET6
    body = struct.pack(
        "=BBBBBBBBI", family, net.prefixlen, 0, 0, min(table, 252), protocol, 0, rtype, 0
    )
    body += _attr(RTA_TABLE, struct.pack("=I", table)) + _attr(RTA_DST, net.network_address.packed)
    body += _attr(RTA_PRIORITY, struct.pack("=I", metric))
    if len(hops) == 1:
        gateway, ifindex, _ = hops[0]
        body += _attr(RTA_GATEWAY, ip_address(gateway).packed)
        body += _attr(RTA_OIF, struct.pack("=i", ifindex))
    elif hops:
        nested = b""
        for gateway, ifindex, weight in hops:
            inner = _attr(RTA_GATEWAY, ip_address(gateway).packed)
            nested += struct.pack("=HBBi", 8 + len(inner), 0, weight - 1, ifindex) + inner
        body += _attr(RTA_MULTIPATH, nested)
    return struct.pack("=IHHII", 16 + len(body), kind, flags, 0, 0) + body


def _read(*messages: bytes) -> tuple[dict[object, Route | None], bool]:
    found = changes(b"".join(messages), OWNED, _device)
    return dict(found.routes), found.relist


def test_a_multipath_route_is_read_whole_with_its_weights() -> None:
    message = _route("10.1.1.0/24", [("10.0.0.104", 3, 1), ("10.0.0.105", 4, 3)])
    assert _read(message) == ({P1: Route(20, ((A, 1), (B, 3)))}, False)


def test_a_single_path_route_and_an_ipv6_one() -> None:
    six = _route("2001:db8:1::/64", [("2001:db8:9::2", 3, 1), ("2001:db8:9::3", 3, 1)])
    found, relist = _read(_route("10.1.1.0/24", [("10.0.0.104", 3, 1)]), six)
    assert not relist
    assert found[P1] == Route(20, ((A, 1),))
    assert found[P6] == Route(20, ((("2001:db8:9::2", "eth0"), 1), (("2001:db8:9::3", "eth0"), 1)))


def test_other_tables_prefixes_and_more_specific_routes_are_not_its_business() -> None:
    hop = [("10.0.0.104", 3, 1)]
    found, relist = _read(
        _route("10.1.1.0/24", hop, table=4242),  # router-fib's own table
        _route("10.1.1.0/25", hop),
        _route("0.0.0.0/0", hop),
    )
    assert (found, relist) == ({}, False)


def test_the_last_word_on_a_prefix_wins_and_a_withdrawal_is_none() -> None:
    found, _ = _read(
        _route("10.1.1.0/24", [("10.0.0.104", 3, 1), ("10.0.0.105", 4, 1)]),
        _route("10.1.1.0/24", [("10.0.0.104", 3, 1)]),
    )
    assert found == {P1: Route(20, ((A, 1),))}
    found, _ = _read(_route("10.1.1.0/24", [("10.0.0.104", 3, 1)], kind=RTM_DELROUTE))
    assert found == {P1: None}


def test_a_route_that_replaced_zebras_at_its_metric_removes_it_and_one_beside_it_does_not() -> None:
    zebra = {P1: Route(20, ((A, 1),))}
    reject = _route("10.1.1.0/24", [], protocol=RTPROT_STATIC, rtype=RTN_UNREACHABLE, metric=4000)
    found, _ = _read(reject)
    follow(zebra, found)
    assert zebra == {P1: Route(20, ((A, 1),))}  # another metric: zebra's route is still there
    found, _ = _read(_route("10.1.1.0/24", [], protocol=RTPROT_STATIC, rtype=RTN_UNREACHABLE))
    follow(zebra, found)
    assert zebra == {}


def test_what_it_cannot_be_sure_of_asks_for_a_listing() -> None:
    hop = [("2001:db8:9::2", 3, 1)]
    # one IPv6 next hop deleted alone, a next hop appended: the message is not the whole route
    assert _read(_route("2001:db8:1::/64", hop, kind=RTM_DELROUTE))[1]
    assert _read(_route("10.1.1.0/24", [("10.0.0.104", 3, 1)], flags=NLM_F_APPEND))[1]
    # a device the router no longer has, a truncated message
    assert _read(_route("10.1.1.0/24", [("10.0.0.104", 9, 1)]))[1]
    assert _read(_route("10.1.1.0/24", [("10.0.0.104", 3, 1)])[:-3])[1]


def test_hostile_bytes_never_raise_nor_name_another_prefix() -> None:
    whole = _route("10.1.1.0/24", [("10.0.0.104", 3, 1), ("10.0.0.105", 4, 1)])
    for cut in range(len(whole)):
        for junk in (whole[:cut], whole[:cut] + b"\xff" * 40, bytes(cut)):
            # cut or garbled: never an exception, never a prefix outside the plan
            assert changes(junk, OWNED, _device).routes.keys() <= OWNED
