"""Pod subnets that overlap are found through their supernets, not by comparing every pair:
the same findings, in the same order, as comparing each with every one seen before."""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network

from hypothesis import given
from hypothesis import strategies as st

from lbgen.checks.addressing import _Seen

Net = IPv4Network | IPv6Network


nets = st.builds(
    lambda address, length: IPv4Network((address, length), strict=False),
    st.integers(0x0A000000, 0x0A00FFFF),
    st.integers(16, 30),
)


def _brute(given_nets: list[Net]) -> list[list[tuple[Net, int]]]:
    seen: dict[Net, int] = {}
    found = []
    for index, net in enumerate(given_nets):
        found.append([(o, w) for o, w in seen.items() if net.overlaps(o)])
        seen[net] = index
    return found


@given(st.lists(nets, max_size=30))
def test_the_overlaps_are_those_of_every_pair_in_the_same_order(given_nets: list[Net]) -> None:
    seen = _Seen()
    found = []
    for index, net in enumerate(given_nets):
        found.append(seen.overlapping(net))
        seen.add(net, index)
    assert found == _brute(given_nets)


def test_ipv6_subnets_nest_too() -> None:
    seen = _Seen()
    seen.add(IPv6Network("fd00:1::/64"), 0)
    assert seen.overlapping(IPv6Network("fd00:1::/48")) == [(IPv6Network("fd00:1::/64"), 0)]
    assert seen.overlapping(IPv6Network("fd00:2::/64")) == []
