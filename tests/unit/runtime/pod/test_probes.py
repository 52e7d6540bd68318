"""lbgen/runtime/pod/probes.py: the BGP sessions read from /proc/net/tcp, and readiness needing
one with a reflector."""

from __future__ import annotations

from ipaddress import IPv4Address

from lbgen.runtime.pod.probes import established_bgp_peers, readiness_problems
from tests.support.procfs import PROC_NET_TCP


def test_established_bgp_sessions_are_read_from_proc() -> None:
    assert established_bgp_peers(PROC_NET_TCP, IPv4Address("172.16.20.2")) == {
        IPv4Address("10.0.0.109")
    }


def test_ready_needs_a_session_with_a_reflector() -> None:
    rr = [IPv4Address("10.0.0.109")]
    assert readiness_problems({rr[0]}, rr) == []
    assert readiness_problems(set(), rr) == ["no BGP session with any reflector is established"]
