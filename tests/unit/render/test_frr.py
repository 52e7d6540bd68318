"""A reflector takes every LB session the fabric may open: FRR's `bgp listen limit` is twice
the LBs (a rollout's new pods peer before the old ones leave), and its daemons file lets bgpd
hold a socket for each (Debian's frr.service caps open files at 1,024: a reflector of 3,000
LBs would refuse most of them)."""

from __future__ import annotations

import re

from bench.fabric import scale_spec
from lbgen.compiler import compile_text


def test_a_big_fabrics_frr_reflector_may_open_a_socket_per_session() -> None:
    result = compile_text(scale_spec(600, 100, ipv6=False), "scale.yaml")
    assert result.plan is not None
    assert result.tree is not None
    lbs = sum(s.replicas for s in result.plan.services)
    conf = result.tree["reflectors/rr-frr/frr.conf"]
    limit = int(re.search(r"^ bgp listen limit (\d+)$", conf, re.MULTILINE).group(1))  # type: ignore[union-attr]
    assert limit == 2 * lbs
    daemons = result.tree["reflectors/rr-frr/daemons"]
    fds = int(re.search(r"^MAX_FDS=(\d+)$", daemons, re.MULTILINE).group(1))  # type: ignore[union-attr]
    assert fds > limit + len(result.plan.routers)


def test_a_small_fabrics_reflector_keeps_frrs_default() -> None:
    result = compile_text(scale_spec(10, 100, ipv6=False), "scale.yaml")
    assert result.tree is not None
    assert "MAX_FDS=1024\n" in result.tree["reflectors/rr-frr/daemons"]
    assert "MAX_FDS" not in result.tree["routers/edge-a/daemons"]
