"""Health-gated routes (issue 19) in the paper's fabric, run by the real daemons: an LB pod
announces its prefix only while its own datapath can serve it. This kernel has no IPVS, so
each pod's keepalived container runs lbgen's stand-in (testbed/standins/keepalived.py: its pid
files, the IPVS table its config would program, the VIPs answered while they have a real
server); the announcer, the hook, exabgp, the reflector and the router are the real ones."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from ipaddress import IPv4Address
from pathlib import Path

import pytest

from lbgen.testbed.bed import Testbed
from lbgen.testbed.host.netns import inside
from tests.support.testbeds import running
from tests.support.waiting import wait_for

pytestmark = pytest.mark.daemons

WEB1 = {IPv4Address(f"10.0.0.{h}") for h in (104, 105, 106)}


@pytest.fixture(scope="module")
def testbed(lb_image: Path) -> Iterator[Testbed]:
    yield from running("paper", "lba", lb_image)


@pytest.fixture
def healed(testbed: Testbed) -> Iterator[Testbed]:
    """Each test leaves the fabric as it found it: every LB announcing again."""
    yield testbed
    wait_for(testbed.see.converged, timeout=60, what="every LB announcing again")


def _web1(testbed: Testbed) -> set[IPv4Address]:
    return {IPv4Address(str(h)) for h in testbed.see.router_nexthops("router")["web1"]}


def _pid(testbed: Testbed, lb: str, container: str) -> int:
    return testbed.processes()[f"{testbed.lb(lb).box.netns}-{container}"]


def test_a_frozen_hook_withdraws_its_lb_after_the_staleness_bound(healed: Testbed) -> None:
    pid = _pid(healed, "web1@node4", "hook")
    os.kill(pid, signal.SIGSTOP)
    try:
        time.sleep(2)  # well within the 5 s bound: still announced
        assert _web1(healed) == WEB1
        wait_for(lambda: IPv4Address("10.0.0.104") not in _web1(healed), 30, "withdrawn")
        assert _web1(healed) == WEB1 - {IPv4Address("10.0.0.104")}
        status = healed.see.announced("web1@node4")
        assert status is not None
        assert "(frozen or dead)" in status["families"]["ipv4"]["problems"][0]
    finally:
        os.kill(pid, signal.SIGCONT)
    wait_for(lambda: _web1(healed) == WEB1, 60, "back once the hook beats again")


def test_a_dead_keepalived_withdraws_its_lb_and_its_restart_brings_it_back(
    healed: Testbed,
) -> None:
    os.kill(_pid(healed, "web1@node5", "keepalived"), signal.SIGKILL)
    wait_for(lambda: IPv4Address("10.0.0.105") not in _web1(healed), 30, "withdrawn")
    assert _web1(healed) == WEB1 - {IPv4Address("10.0.0.105")}
    healed.faults.restart("web1@node5", "keepalived")
    wait_for(lambda: _web1(healed) == WEB1, 60, "back with keepalived")


def test_an_emptied_backend_is_withdrawn_by_every_lb_and_refused_at_the_router(
    healed: Testbed,
) -> None:
    backends = [b.box.address for b in healed.layout.backends if b.service == "web1"]
    assert all(backends)
    healed.workloads.set_endpoints("web1", [])
    try:
        wait_for(lambda: not _web1(healed), 30, "every LB of web1 withdrawn")
        # and router-fib's group, which the client's (marked) packets take, follows
        wait_for(lambda: not healed.see.router_groups("router")["web1"], 10, "the group gone")
        assert healed.see.router_nexthops("router")["web2"]  # another service keeps its LBs
        route = subprocess.run(
            ["ip", "-n", healed.layout.routers[0].netns, "-j", "route", "show", "10.1.1.0/24"],
            capture_output=True,
            text=True,
            check=True,
        )
        assert [r["type"] for r in json.loads(route.stdout)] == ["unreachable"]
        # the client's connect is refused (ICMP unreachable: OSError EHOSTUNREACH), where a
        # blackhole or a loop would end in the client's timeout (TimeoutError)
        assert healed.see.ask("10.1.1.1", 80, 1) == ["error OSError"]
        # the LB pods stay ready: an empty backend is not their datapath's failure
        assert healed.see.wait_ready(10) == {lb.box.name: [] for lb in healed.lbs}
    finally:
        healed.workloads.set_endpoints("web1", [a for a in backends if a is not None])
    wait_for(lambda: _web1(healed) == WEB1, 60, "announced again once an endpoint is ready")


def test_an_api_outage_withdraws_no_lb_and_the_pools_keep_serving(healed: Testbed) -> None:
    before = healed.see.nexthops()
    healed.workloads.set_api(up=False)
    try:
        deadline = time.monotonic() + 10  # twice the hook's staleness bound, and more
        while time.monotonic() < deadline:
            assert healed.see.nexthops() == before
            time.sleep(0.5)
        answers = healed.see.ask("10.1.1.1", 80, 12) + healed.see.ask("10.1.2.1", 80, 12)
        assert not [a for a in answers if a.startswith("error")], answers
        assert "lbgen_hook_pool_stale 1.0" in healed.see.metrics("web1@node4")
    finally:
        healed.workloads.set_api(up=True)
    wait_for(
        lambda: "lbgen_hook_pool_stale 0.0" in healed.see.metrics("web1@node4"), 60, "resynced"
    )
    assert healed.see.nexthops() == before


_HAMMER = (
    "import json,socket,sys,time\n"
    "vip, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]); got = {}\n"
    "end = time.monotonic() + seconds\n"
    "while time.monotonic() < end:\n"
    "    s = socket.socket(); s.settimeout(3)\n"
    "    try:\n"
    "        s.connect((vip, port)); s.sendall(b'GET / HTTP/1.0\\r\\n\\r\\n')\n"
    "        data = b''\n"
    "        while chunk := s.recv(4096): data += chunk\n"
    "        kind = data.decode().split()[-3] if data else 'empty'\n"
    "    except OSError as e: kind = 'error ' + type(e).__name__\n"
    "    finally: s.close()\n"
    "    got[kind] = got.get(kind, 0) + 1\n"
    "    time.sleep(0.01)\n"
    "print(json.dumps(got))\n"
)


def test_a_new_lb_enters_the_fib_only_once_its_vip_answers(healed: Testbed) -> None:
    """A client hammers web2's VIP while an LB is added: not one connection is refused, and the
    new LB entered the router's route and its resilient group while the client hammered. (It
    need not take any of those connections: the group gives a joining member only buckets idle
    for idleTimer, and 14 s of connections from random ports can keep every bucket busy.)"""
    client = healed.see.client().box.netns
    started = time.monotonic()
    hammer = subprocess.Popen(
        inside(client, sys.executable, "-c", _HAMMER, "10.1.2.1", "80", "14"),
        stdout=subprocess.PIPE,
        text=True,
    )
    added, node6 = None, IPv4Address("10.0.0.106")
    try:
        time.sleep(1)
        added = healed.workloads.add_lb("web2", "node6")
        wait_for(
            lambda: (
                node6 in healed.see.router_nexthops("router")["web2"]
                and node6 in healed.see.router_groups("router")["web2"]
            ),
            30,
            "the new LB's path",
        )
        entered = time.monotonic() - started
        out, _ = hammer.communicate(timeout=40)
    finally:
        if hammer.poll() is None:
            hammer.kill()
            hammer.wait()
        if added is not None:
            healed.workloads.remove_lb(added)
    got = json.loads(out)
    assert not [k for k in got if k.startswith("error") or k == "empty"], got
    assert entered < 14, (entered, got)  # the client was still at it


def test_each_lb_pods_metrics_say_it_announces_and_its_session_is_up(healed: Testbed) -> None:
    text = healed.see.metrics("web2@node5")
    assert 'lbgen_announced{family="ipv4"} 1.0' in text
    assert 'lbgen_bgp_session_up{reflector="rr"} 1.0' in text
    assert "lbgen_hook_pool_stale 0.0" in text
