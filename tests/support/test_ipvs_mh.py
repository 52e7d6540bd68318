"""The ip_vs_mh model against what the reference run measured on Debian's 6.1 kernel
(../shared/reference/ipvs-vm: two real servers :80, client 10.255.0.4, source ports
1024-65535): the two list orders differ in exactly 1 of 4,093 slots, 12 source ports."""

from __future__ import annotations

from ipaddress import IPv4Address

from tests.support.ipvs_mh import SIZE, differing_ports, owners, table

BE1 = (IPv4Address("10.0.0.11"), 80, 1)


BE2 = (IPv4Address("10.0.0.12"), 80, 1)


def test_two_orders_of_two_servers_differ_in_one_slot_and_twelve_ports() -> None:
    one, two = table([BE1, BE2]), table([BE2, BE1])
    moved = sum(
        1 for a, b in zip(one, two, strict=True) if [BE1, BE2][a or 0] != [BE2, BE1][b or 0]
    )
    assert moved == 1
    ports = differing_ports([BE1, BE2], [BE2, BE1], IPv4Address("10.255.0.4"), range(1024, 65536))
    assert len(ports) == 12


def test_every_slot_is_filled_and_shared_evenly() -> None:
    lookup = table([BE1, BE2])
    assert None not in lookup
    assert abs(lookup.count(0) - SIZE / 2) <= 1


def test_a_server_of_weight_zero_takes_no_slot_and_leaves_the_others_as_without_it() -> None:
    drained = (IPv4Address("10.0.0.13"), 80, 0)
    assert table([BE1, drained, BE2]).count(1) == 0
    assert owners([BE1, drained, BE2]) == owners([BE1, BE2])
