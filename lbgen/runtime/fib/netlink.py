"""zebra's route changes read from the kernel's rtnetlink notifications (pure): each
RTM_NEWROUTE carries the whole route (with `net.ipv4.nexthop_compat_mode`, Linux's default, a
route on a nexthop object carries its next hops expanded, and a group replaced in place is
reported as its routes), so a change costs router-fib the message, not a listing of every route.

Only what is certain is taken: a message it cannot read in full, or one whose meaning depends on
state it does not hold (an IPv6 next hop deleted alone, a route appended), asks for a listing
instead (`Changes.relist`)."""

from __future__ import annotations

import socket
import struct
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address, ip_network

from lbgen.contract import RTPROT_BGP
from lbgen.runtime.fib.groups import WEIGHTS, Hop, Members, Network, Route

# linux/netlink.h, linux/rtnetlink.h
NLMSG_HEADER = struct.Struct("=IHHII")  # length, type, flags, sequence, port
RTMSG = struct.Struct("=BBBBBBBBI")  # family, dst_len, src_len, tos, table, protocol, scope, type
RTATTR = struct.Struct("=HH")  # length, type
RTNEXTHOP = struct.Struct("=HBBi")  # length, flags, hops (weight - 1), ifindex
NLMSG_ERROR, NLMSG_OVERRUN = 2, 4
RTM_NEWROUTE, RTM_DELROUTE = 24, 25
NLM_F_APPEND = 0x800
RTA_DST, RTA_OIF, RTA_GATEWAY, RTA_PRIORITY, RTA_MULTIPATH, RTA_TABLE = 1, 4, 5, 6, 9, 15
RT_TABLE_MAIN, RTN_UNICAST = 254, 1

Devices = Callable[[int], str]  # ifindex → its name


@dataclass
class Changes:
    """What a batch of notifications says of the followed prefixes: each prefix's route now
    (None: zebra's route is gone), or that only a listing can tell (`relist`)."""

    routes: dict[Network, Route | None] = field(default_factory=dict)
    relist: bool = False


def _attributes(data: bytes, start: int, end: int) -> dict[int, bytes]:
    found: dict[int, bytes] = {}
    while start + RTATTR.size <= end:
        length, kind = RTATTR.unpack_from(data, start)
        if length < RTATTR.size or start + length > end:
            raise ValueError("a truncated route attribute")
        found[kind & 0x3FFF] = data[start + RTATTR.size : start + length]
        start += (length + 3) & ~3
    return found


def _gateway(family: int, attributes: Mapping[int, bytes]) -> str | None:
    """A hop's gateway of the route's own family (RTA_VIA, another family's, is not one that
    `ip route` lists as a gateway either)."""
    raw = attributes.get(RTA_GATEWAY)
    if raw is None:
        return None
    return str(IPv4Address(raw) if family == socket.AF_INET else IPv6Address(raw))


def _members(family: int, attributes: Mapping[int, bytes], devices: Devices) -> Members:
    hops: dict[Hop, int] = {}
    nested = attributes.get(RTA_MULTIPATH)
    if nested is None:
        gateway, oif = _gateway(family, attributes), attributes.get(RTA_OIF)
        if gateway and oif is not None:
            hops[(gateway, devices(struct.unpack("=i", oif)[0]))] = 1
        return tuple(sorted(hops.items()))
    start = 0
    while start + RTNEXTHOP.size <= len(nested):
        length, _flags, weight, ifindex = RTNEXTHOP.unpack_from(nested, start)
        if length < RTNEXTHOP.size or start + length > len(nested):
            raise ValueError("a truncated next hop")
        gateway = _gateway(family, _attributes(nested, start + RTNEXTHOP.size, start + length))
        if gateway:
            hops[(gateway, devices(ifindex))] = weight + 1 if weight + 1 in WEIGHTS else 1
        start += (length + 3) & ~3
    return tuple(sorted(hops.items()))


def _route(
    message: bytes,
    kind: int,
    flags: int,
    owned: Collection[Network],
    devices: Devices,
    *,
    followed: int,
) -> tuple[Network, Route | None] | None:
    """One route message as (prefix, zebra's route or None), or None when it is not about a
    followed prefix's route in the main table. Raises ValueError when it cannot be read."""
    family, dst_len, _src, _tos, table, protocol, _scope, rtype, _f = RTMSG.unpack_from(message)
    if family not in (socket.AF_INET, socket.AF_INET6):
        return None
    attributes = _attributes(message, RTMSG.size, len(message))
    if RTA_TABLE in attributes:
        table = struct.unpack("=I", attributes[RTA_TABLE])[0]
    if table != RT_TABLE_MAIN or RTA_DST not in attributes:
        return None
    dst = attributes[RTA_DST]
    address = IPv4Address(dst) if family == socket.AF_INET else IPv6Address(dst)
    prefix = ip_network((address, dst_len), strict=False)
    if prefix not in owned:
        return None
    metric = struct.unpack("=I", attributes[RTA_PRIORITY])[0] if RTA_PRIORITY in attributes else 0
    if flags & NLM_F_APPEND or (kind == RTM_DELROUTE and family == socket.AF_INET6):
        # a next hop added to or deleted from a route the message does not show whole
        raise ValueError("a partial route")
    if kind == RTM_DELROUTE:
        return (prefix, None) if protocol == followed else None
    if protocol != followed or rtype != RTN_UNICAST:
        # another route at zebra's metric has replaced zebra's (its reject route, say)
        return (prefix, Route(metric, ()))
    return prefix, Route(metric, _members(family, attributes, devices))


def changes(
    data: bytes, owned: Collection[Network], devices: Devices, followed: int = RTPROT_BGP
) -> Changes:
    """The followed prefixes' routes that one datagram of notifications reports (the last word
    on each prefix wins). `followed`: the protocol of the routes followed (zebra's bgp; BIRD's
    routes are proto bird)."""
    found = Changes()
    start = 0
    while start + NLMSG_HEADER.size <= len(data):
        length, kind, flags, _seq, _port = NLMSG_HEADER.unpack_from(data, start)
        if length < NLMSG_HEADER.size or start + length > len(data):
            found.relist = True
            break
        body = data[start + NLMSG_HEADER.size : start + length]
        start += (length + 3) & ~3
        if kind in (NLMSG_ERROR, NLMSG_OVERRUN):
            found.relist = True
        if kind not in (RTM_NEWROUTE, RTM_DELROUTE):
            continue
        try:
            route = _route(body, kind, flags, owned, devices, followed=followed)
        except (ValueError, OSError, struct.error):
            found.relist = True
            continue
        if route is not None:
            found.routes[route[0]] = route[1]
    return found


def follow(zebra: dict[Network, Route], reported: Mapping[Network, Route | None]) -> None:
    """zebra's routes as router-fib knows them, updated by what was reported: a route another
    one replaced at its own metric is gone, one at another metric leaves zebra's in place."""
    for prefix, route in reported.items():
        known = zebra.get(prefix)
        if route is None:
            zebra.pop(prefix, None)
        elif route.members:
            zebra[prefix] = route
        elif known is None or known.metric == route.metric:
            zebra.pop(prefix, None)
