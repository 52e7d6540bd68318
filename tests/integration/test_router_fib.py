"""`lbgen router-fib` for real in a namespace of the test's own: the kernel routes a `proto bgp`
route stands for zebra's, router-fib copies each into a resilient nexthop group, and the router's
choice for 2,000 5-tuples (`ip route get … sport S`, as router-fib's nftables rule marks a
forwarded packet while its lease lives) shows which flows change next hop when the route does."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from ipaddress import ip_network
from pathlib import Path

import pytest

from lbgen.contract import ROUTER_FIB_RULE_PRIORITY
from lbgen.runtime.fib.groups import PROTO
from lbgen.testbed.host.netns import inside
from lbgen.testbed.host.routes import forwarding_choices, lease_alive, moved, route_choices
from tests.conftest import require_tool
from tests.support.fibrig import fib_config
from tests.support.waiting import wait_for

pytestmark = pytest.mark.daemons

PREFIX, VIP = "10.1.1.0/24", "10.1.1.1"
PREFIX6 = "2001:db8:1::/64"
LBS = ["10.9.0.2", "10.9.0.3", "10.9.0.4", "10.9.0.5"]
PORTS = list(range(20000, 22000))
CONFIG = fib_config([ip_network(PREFIX), ip_network("10.1.2.0/24"), ip_network(PREFIX6)])


def _ip(netns: str, *argv: str, check: bool = True) -> str:
    return subprocess.run(
        ["ip", "-n", netns, *argv], capture_output=True, text=True, check=check
    ).stdout


def _zebra(netns: str, *hops: str) -> None:
    """What zebra would install: the prefix over `hops`, protocol bgp, in the main table."""
    if not hops:
        _ip(netns, "route", "del", PREFIX, "proto", "bgp", check=False)
        return
    nexthops = [a for hop in hops for a in ("nexthop", "via", hop, "dev", "v0")]
    _ip(netns, "route", "replace", PREFIX, "proto", "bgp", *nexthops)


def _group_hops(netns: str) -> set[str]:
    """The gateways of router-fib's group for PREFIX (its table's route)."""
    routes = json.loads(_ip(netns, "-j", "route", "show", "table", str(CONFIG.table)) or "[]")
    for route in routes:
        if route["dst"] == PREFIX:
            return {h["gateway"] for h in route.get("nexthops") or [route]}
    return set()


def choices(netns: str) -> dict[int, str]:
    """The router's next hop per source port, as it forwards from its clients' side."""
    return forwarding_choices(netns, VIP, "10.8.0.2", PORTS, iif="v9", fwmark=CONFIG.fwmark)


@pytest.fixture
def router(netns: str, tmp_path: Path) -> str:
    """The namespace as a router: clients on v9 (10.8.0.1/24), LBs' nodes on v0 (10.9.0.0/24,
    neighbours fixed), 5-tuple hashing, and zebra's route over three LBs."""
    require_tool("nft")
    for a, b in (("v0", "p0"), ("v9", "p9")):
        _ip(netns, "link", "add", a, "type", "veth", "peer", "name", b)
        _ip(netns, "link", "set", a, "up")
        _ip(netns, "link", "set", b, "up")
    _ip(netns, "addr", "add", "10.9.0.1/24", "dev", "v0")
    _ip(netns, "addr", "add", "10.8.0.1/24", "dev", "v9")
    for index, lb in enumerate(LBS):
        _ip(netns, "neigh", "add", lb, "lladdr", f"02:00:00:00:00:{index + 2:02x}", "dev", "v0")
    for key in ("net.ipv4.ip_forward=1", "net.ipv4.fib_multipath_hash_policy=1"):
        subprocess.run(["ip", "netns", "exec", netns, "sysctl", "-qw", key], check=True)
    _zebra(netns, *LBS[:3])
    (tmp_path / "router-fib.json").write_text(CONFIG.model_dump_json())
    return netns


@contextmanager
def router_fib(netns: str, config: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`lbgen router-fib` running in the namespace until the block ends (SIGKILL then)."""
    argv = inside(netns, sys.executable, "-m", "lbgen", "router-fib", "--config", str(config))
    with (config.parent / "router-fib.log").open("ab") as log:
        process = subprocess.Popen(argv, stdout=log, stderr=log)
    try:
        wait_for(lambda: lease_alive(netns), timeout=20, what="router-fib's lease")
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


def test_the_agent_copies_zebras_route_into_a_resilient_group_and_marks_its_prefixes(
    router: str, tmp_path: Path
) -> None:
    with router_fib(router, tmp_path / "router-fib.json"):
        assert _group_hops(router) == set(LBS[:3])
        ours = [g for g in json.loads(_ip(router, "-j", "nexthop", "show")) if g.get("group")]
        assert [(g["type"], g["protocol"]) for g in ours] == [("resilient", PROTO)]
        assert ours[0]["resilient_args"]["buckets"] == CONFIG.buckets
        rule = f"fwmark {CONFIG.fwmark:#x}/{CONFIG.fwmark:#x} lookup {CONFIG.table}"
        assert f"{ROUTER_FIB_RULE_PRIORITY}:\tfrom all {rule}" in _ip(router, "rule", "show")
        assert rule in _ip(router, "-6", "rule", "show")
        # nothing else is touched: zebra's route stays as it was, in the main table
        assert _ip(router, "route", "show", PREFIX).count("nexthop via") == 3


def test_one_of_three_lbs_gone_moves_none_of_the_survivors_flows(
    router: str, tmp_path: Path
) -> None:
    with router_fib(router, tmp_path / "router-fib.json"):
        before = choices(router)
        assert set(before.values()) == set(LBS[:3])
        _zebra(router, LBS[1], LBS[2])  # the first: under hash-threshold, the costly one
        wait_for(lambda: _group_hops(router) == {LBS[1], LBS[2]}, timeout=5, what="the group")
        after = choices(router)
    assert set(after.values()) == {LBS[1], LBS[2]}
    assert moved(before, after, gone=LBS[0]) == 0
    # zebra's own hash-threshold route, for comparison: a quarter of the survivors' flows move
    _zebra(router, *LBS[:3])
    hashed_before = route_choices(router, VIP, "10.8.0.2", PORTS, iif="v9")
    _zebra(router, LBS[1], LBS[2])
    hashed_after = route_choices(router, VIP, "10.8.0.2", PORTS, iif="v9")
    survivors = sum(1 for h in hashed_before.values() if h != LBS[0])
    assert moved(hashed_before, hashed_after, gone=LBS[0]) > survivors // 10


def test_a_route_down_to_one_lb_keeps_its_flows_when_the_second_returns(
    router: str, tmp_path: Path
) -> None:
    """A 2-LB service mid-rollout: its route has one LB for a while. The kernel forwards a
    one-path route without hashing, so a group of one member would mark no bucket busy, and
    the second LB's return would take half the flows that began meanwhile (the VM's rollout
    resets); each LB is in its group twice (a twin), so that never happens."""
    _zebra(router, LBS[0], LBS[1])
    with router_fib(router, tmp_path / "router-fib.json"):
        wait_for(lambda: _group_hops(router) == set(LBS[:2]), timeout=5, what="the group")
        choices(router)  # flows on both LBs: every bucket busy
        _zebra(router, LBS[0])
        wait_for(lambda: _group_hops(router) == {LBS[0]}, timeout=5, what="one LB")
        alone = choices(router)  # the flows that begin while it is alone: their buckets busy
        _zebra(router, LBS[0], LBS[1])
        wait_for(lambda: _group_hops(router) == set(LBS[:2]), timeout=5, what="two again")
        after = choices(router)
    assert set(alone.values()) == {LBS[0]}
    assert moved(alone, after) == 0


def test_an_lb_added_moves_no_active_flow(router: str, tmp_path: Path) -> None:
    with router_fib(router, tmp_path / "router-fib.json"):
        before = choices(router)  # every bucket these flows use is busy now
        _zebra(router, *LBS)
        wait_for(lambda: _group_hops(router) == set(LBS), timeout=5, what="the group")
        after = choices(router)
    assert moved(before, after) == 0


def test_the_agent_killed_and_restarted_moves_no_flow(router: str, tmp_path: Path) -> None:
    config = tmp_path / "router-fib.json"
    with router_fib(router, config) as first:
        before = choices(router)
        first.send_signal(signal.SIGKILL)
        first.wait()
    with router_fib(router, config):  # back within the lease (as systemd's Restart= brings it)
        after = choices(router)
        assert _group_hops(router) == set(LBS[:3])
    assert moved(before, after) == 0


def test_a_dead_agent_pins_nothing_its_lease_runs_out_and_zebras_route_forwards(
    router: str, tmp_path: Path
) -> None:
    config = tmp_path / "router-fib.json"
    with router_fib(router, config) as running:
        running.send_signal(signal.SIGKILL)
        running.wait()
        wait_for(lambda: not lease_alive(router), timeout=3, what="the lease to run out")
        # an LB dies while router-fib is dead: its group still holds it, nothing uses the group
        _zebra(router, LBS[1], LBS[2])
        assert LBS[0] in _group_hops(router)
        assert LBS[0] not in set(choices(router).values())
    with router_fib(router, config):  # restarted: it reconciles the group with zebra
        wait_for(lambda: _group_hops(router) == {LBS[1], LBS[2]}, timeout=5, what="the group")
        assert LBS[0] not in set(choices(router).values())


def test_a_graceful_stop_ends_the_lease_at_once_and_the_last_lb_gone_removes_the_group(
    router: str, tmp_path: Path
) -> None:
    with router_fib(router, tmp_path / "router-fib.json") as running:
        _zebra(router)  # every LB withdrawn: zebra's route goes (the reject route takes over)
        wait_for(lambda: not _group_hops(router), timeout=5, what="the group removed")
        running.send_signal(signal.SIGTERM)
        assert running.wait(timeout=10) == 0
        assert not lease_alive(router)
    ours = [n for n in json.loads(_ip(router, "-j", "nexthop", "show")) if n["protocol"] == PROTO]
    assert not [n for n in ours if n.get("group")]  # its group is gone with zebra's route
    # the LBs that left are pinned for the drain: their members stay until their pins end
    assert {n["gateway"] for n in ours} == set(LBS[:3])
    assert _ip(router, "rule", "show").count(f"{ROUTER_FIB_RULE_PRIORITY - 1}:") == 3
