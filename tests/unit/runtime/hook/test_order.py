"""Every LB of a service holds its pool in one kernel order, whatever its history: the order a
fresh keepalived builds. IPVS adds a real server at the head of its list; keepalived applies a
reload incrementally; lbgen.runtime.hook.order finds the fewest servers to take out and put
back, per family."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address

from hypothesis import given
from hypothesis import strategies as st

from lbgen.plan import ServicePlan
from lbgen.render.keepalived import RealServer, config_order
from lbgen.runtime.hook.order import rebuild, taken_out, to_move, wanted_orders, without
from lbgen.runtime.ipvs import read_ipvs
from tests.support.hookrig import paper_pod

HTTP = ("http", "TCP")


SERVICE = paper_pod().service  # web1: mh, one port, VIP 10.1.1.1:80


VS = ("TCP", IPv4Address("10.1.1.1"), 80)


PROC_NET_IP_VS = """\
IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port Forward Weight ActiveConn InActConn
TCP  0A010101:0050 mh (mh-port)
  -> AC100266:1F90      Masq    1      0          0
  -> AC100165:1F90      Masq    0      2          1
UDP  0A010101:0035 rr
  -> AC100165:0035      Masq    1      0          0
TCP  [2001:0db8:0000:0000:0000:0000:0000:0001]:0050 mh
  -> [2001:0db8:0000:0000:0000:0000:0000:0002]:0050      Masq    1      0          0
"""


def dest(n: int) -> tuple[IPv4Address, int]:
    return IPv4Address(f"172.16.1.{n}"), 8080


def keepalived_applies(kernel: list[tuple[IPv4Address, int]], pool: set[int]) -> None:
    """A keepalived reload: servers gone from the config are deleted, new ones added in config
    order, each at the head of the kernel's list (ip_vs_ctl.c's list_add)."""
    wanted = config_order(RealServer(*dest(n)) for n in pool)
    kernel[:] = [d for d in kernel if d in {(s.address, s.port) for s in wanted}]
    for server in wanted:
        if (server.address, server.port) not in kernel:
            kernel.insert(0, (server.address, server.port))


histories = st.lists(st.sets(st.integers(1, 8), min_size=1, max_size=6), min_size=1, max_size=8)


def test_the_kernel_order_is_kept_per_family(dual_web: ServicePlan) -> None:
    a, b = IPv6Address("fd00:61:0:1::100"), IPv6Address("fd00:61:0:2::100")
    four = IPv4Address("10.60.2.100")
    pools = {HTTP: (RealServer(four, 8080), RealServer(a, 8080), RealServer(b, 8080))}
    wanted = wanted_orders(dual_web, pools)
    assert wanted[("TCP", IPv6Address("2001:db8:64::80"), 80)] == ((b, 8080), (a, 8080))
    held = {
        ("TCP", IPv4Address("203.0.113.65"), 80): (((four, 8080), 1),),
        ("TCP", IPv6Address("2001:db8:64::80"), 80): (((a, 8080), 1), ((b, 8080), 1)),
    }
    assert rebuild(dual_web, pools, held) == {HTTP: ((b, 8080),)}


def test_the_kernel_list_is_read_head_first_with_weights_of_both_families() -> None:
    table = read_ipvs(PROC_NET_IP_VS)
    assert table == {
        VS: (((IPv4Address("172.16.2.102"), 8080), 1), (dest(101), 0)),
        ("UDP", IPv4Address("10.1.1.1"), 53): (((IPv4Address("172.16.1.101"), 53), 1),),
        ("TCP", IPv6Address("2001:db8::1"), 80): (((IPv6Address("2001:db8::2"), 80), 1),),
    }


def test_the_wanted_order_is_what_a_fresh_keepalived_builds_config_order_reversed() -> None:
    pools = {HTTP: (RealServer(*dest(3)), RealServer(*dest(1)), RealServer(*dest(2)))}
    assert wanted_orders(SERVICE, pools) == {VS: (dest(3), dest(2), dest(1))}


def test_a_scheduler_that_does_not_hash_has_no_wanted_order() -> None:
    rr = SERVICE.model_copy(update={"scheduler": "rr"})
    assert wanted_orders(rr, {HTTP: (RealServer(*dest(1)),)}) == {}


def test_in_order_nothing_moves_other_servers_nothing_to_decide() -> None:
    wanted = (dest(3), dest(2), dest(1))
    assert to_move(wanted, wanted) == ()
    assert to_move((dest(3), dest(2)), wanted) is None
    assert to_move((), ()) == ()


def test_a_server_added_at_the_head_out_of_place_moves_with_those_before_it() -> None:
    # pool 2, 3; then 1 added (sorts first): the kernel holds 1, 3, 2; fresh: 3, 2, 1
    assert to_move((dest(1), dest(3), dest(2)), (dest(3), dest(2), dest(1))) == (dest(3), dest(2))
    # pool 1, 2; then 3 added (sorts last): head insertion is the fresh order already
    assert to_move((dest(3), dest(2), dest(1)), (dest(3), dest(2), dest(1))) == ()


def test_rebuild_plans_per_pool_and_waits_while_keepalived_has_not_applied() -> None:
    pools = {HTTP: tuple(RealServer(*dest(n)) for n in (1, 2, 3))}
    held = {VS: ((dest(1), 1), (dest(3), 1), (dest(2), 1))}
    assert rebuild(SERVICE, pools, held) == {HTTP: (dest(3), dest(2))}
    assert rebuild(SERVICE, pools, {VS: ((dest(1), 1),)}) is None
    assert rebuild(SERVICE, pools, {}) is None
    assert without(pools, {HTTP: (dest(3), dest(2))}) == {HTTP: (RealServer(*dest(1)),)}
    assert not taken_out({HTTP: (dest(3),)}, held)
    assert taken_out({HTTP: (dest(3),)}, {VS: ((dest(1), 1),)})


@given(histories)
def test_after_any_history_one_rebuild_gives_the_fresh_order_moving_the_fewest(
    history: list[set[int]],
) -> None:
    kernel: list[tuple[IPv4Address, int]] = []
    for pool in history:
        keepalived_applies(kernel, pool)
    final = history[-1]
    pools = {HTTP: tuple(RealServer(*dest(n)) for n in final)}
    moves = rebuild(SERVICE, pools, {VS: tuple((d, 1) for d in kernel)})
    assert moves is not None
    before = list(kernel)
    moved = moves.get(HTTP, ())
    keepalived_applies(kernel, {n for n in final if dest(n) not in moved})
    keepalived_applies(kernel, final)
    fresh: list[tuple[IPv4Address, int]] = []
    keepalived_applies(fresh, final)
    assert kernel == fresh
    # fewest: keeping any more of the wanted order's tail would leave it out of order
    wanted = wanted_orders(SERVICE, pools)[VS]
    kept = wanted[len(moved) - 1 :] if moved else wanted
    if moved:
        assert [d for d in before if d in kept] != list(kept)
