"""lbgen/runtime/ipvs.py: the kernel's IPVS table read from /proc/net/ip_vs."""

from __future__ import annotations

from ipaddress import IPv4Address

from lbgen.runtime.ipvs import read_ipvs
from tests.support.procfs import PROC_NET_IP_VS


def test_ipvs_virtual_services_are_read_from_proc() -> None:
    assert set(read_ipvs(PROC_NET_IP_VS)) == {("TCP", IPv4Address("10.1.1.1"), 80)}
