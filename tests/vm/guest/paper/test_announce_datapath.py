"""Health-gated routes on a kernel with IPVS (lbgen's VM, issue 19): the paper's fabric, every
LB pod whole. An LB leaves the router's FIB for its own datapath's failure (keepalived killed,
IPVS flushed, its hook frozen), every LB leaves for a backend with no ready endpoint (the
router then refuses the VIP at once), none leaves for an API outage; a flapping datapath makes
a bounded number of BGP updates. The tests run in order on one testbed; each leaves it healed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from ipaddress import IPv4Address

import pytest

from lbgen.contract import HOOK, KEEPALIVED
from lbgen.testbed.bed import Testbed
from lbgen.testbed.clients.flows import fields
from lbgen.testbed.host.netns import inside
from lbgen.testbed.model.daemons import GOBGP_API
from tests.support.waiting import wait_for
from tests.vm.conftest import Record

WEB1 = {IPv4Address(f"10.0.0.{h}") for h in (104, 105, 106)}
WEB2 = {IPv4Address(f"10.0.0.{h}") for h in (104, 105)}


@pytest.fixture
def healed(bed: Testbed) -> Iterator[Testbed]:
    yield bed
    wait_for(lambda: _hops(bed, "web1") == WEB1, timeout=180, what="web1 healed")
    wait_for(lambda: _hops(bed, "web2") == WEB2, timeout=180, what="web2 healed")


def _hops(bed: Testbed, service: str) -> set[IPv4Address]:
    return {IPv4Address(str(h)) for h in bed.see.router_nexthops("router")[service]}


def _until_gone(bed: Testbed, service: str, node: IPv4Address) -> float:
    """Seconds until `node` has left the service's next hops."""
    started = time.monotonic()
    wait_for(lambda: node not in _hops(bed, service), timeout=60, what=f"{node} withdrawn")
    return round(time.monotonic() - started, 2)


def _answered(bed: Testbed, vip: str, count: int = 20) -> list[dict[str, str]]:
    answers = bed.see.ask(vip, 80, count)
    assert not [a for a in answers if a.startswith("error")], answers
    return [fields(a) for a in answers]


def _pid(bed: Testbed, lb: str, container: str) -> int:
    return bed.processes()[f"{bed.lb(lb).box.netns}-{container}"]


def test_a_killed_keepalived_or_a_flushed_ipvs_withdraws_only_that_lb(
    healed: Testbed, record: Record
) -> None:
    """(a) The node leaves the FIB within fall × interval + 1 s; requests started after that
    all succeed through the others; it comes back when keepalived does."""
    node5 = IPv4Address("10.0.0.105")
    os.kill(_pid(healed, "web1@node5", KEEPALIVED), signal.SIGKILL)
    killed = _until_gone(healed, "web1", node5)
    assert _hops(healed, "web1") == WEB1 - {node5}
    assert {a["peer"] for a in _answered(healed, "10.1.1.1")} <= {"172.16.4.10", "172.16.6.10"}
    healed.faults.restart("web1@node5", KEEPALIVED)
    wait_for(lambda: _hops(healed, "web1") == WEB1, timeout=120, what="back with keepalived")
    subprocess.run(inside(healed.lb("web1@node5").box.netns, "ipvsadm", "-C"), check=True)
    flushed = _until_gone(healed, "web1", node5)
    _answered(healed, "10.1.1.1")
    healed.faults.restart("web1@node5", KEEPALIVED)  # a new keepalived programs IPVS afresh
    record("announce.keepalived_killed_s", killed)
    record("announce.ipvs_flushed_s", flushed)


def test_a_frozen_hook_withdraws_its_lb_after_its_staleness_bound(
    healed: Testbed, record: Record
) -> None:
    """(d)"""
    pid = _pid(healed, "web2@node4", HOOK)
    os.kill(pid, signal.SIGSTOP)
    try:
        record("announce.hook_frozen_s", _until_gone(healed, "web2", IPv4Address("10.0.0.104")))
        _answered(healed, "10.1.2.1")
    finally:
        os.kill(pid, signal.SIGCONT)


def test_an_emptied_backend_is_withdrawn_by_every_lb_and_refused_at_the_router(
    healed: Testbed, record: Record
) -> None:
    """(b) The router keeps only the reject route: `ip route get` says so, and a client's
    request fails at once instead of looping; ready again → announced again."""
    backends = [a for b in healed.layout.backends if b.service == "web1" and (a := b.box.address)]
    started = time.monotonic()
    healed.workloads.set_endpoints("web1", [])
    try:
        wait_for(lambda: not _hops(healed, "web1"), timeout=60, what="every LB withdrawn")
        withdrawn = round(time.monotonic() - started, 2)
        # router-fib's group, which the client's (marked) packets take, follows zebra's route
        # (under emulation up to a second later)
        grouped = healed.see.router_groups
        wait_for(lambda: not grouped("router")["web1"], timeout=30, what="the group gone")
        router = healed.layout.routers[0].netns
        get = subprocess.run(
            ["ip", "-n", router, "route", "get", "10.1.1.1"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert get.returncode != 0
        assert "No route to host" in get.stderr
        asked = time.monotonic()
        assert healed.see.ask("10.1.1.1", 80, 1) == ["error OSError"]
        refused = round(time.monotonic() - asked, 2)
        assert _hops(healed, "web2") == WEB2
    finally:
        healed.workloads.set_endpoints("web1", backends)
    started = time.monotonic()
    wait_for(lambda: _hops(healed, "web1") == WEB1, timeout=120, what="announced again")
    back = round(time.monotonic() - started, 2)
    record(
        "announce.backend_emptied",
        {"withdrawn_s": withdrawn, "client_failed_s": refused, "back_s": back},
    )


def _received_updates(bed: Testbed, lb: str) -> int:
    """UPDATE messages the gobgpd reflector received from an LB pod's session."""
    host, port = GOBGP_API.split(":")
    shown = subprocess.run(
        [
            *("ip", "netns", "exec", bed.layout.reflectors[0].netns),
            *("gobgp", "-u", host, "-p", port, "neighbor", str(bed.lb(lb).box.address), "-j"),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return int(json.loads(shown)["state"]["messages"]["received"]["update"])


_FLAP = (
    "import subprocess,sys,time\n"
    "vip, servers, seconds = sys.argv[1], sys.argv[2].split(','), float(sys.argv[3])\n"
    "end, weight = time.monotonic() + seconds, 0\n"
    "while time.monotonic() < end:\n"
    "    for s in servers:\n"
    "        subprocess.run(['ipvsadm','-e','-t',vip,'-r',s,'-m','-w',str(weight)],check=True)\n"
    "    weight = 1 - weight\n"
    "    time.sleep(0.25)\n"
    "for s in servers:\n"
    "    subprocess.run(['ipvsadm','-e','-t',vip,'-r',s,'-m','-w','1'],check=True)\n"
)


def test_a_datapath_flapping_at_2_hz_for_30_s_makes_a_bounded_number_of_updates(
    healed: Testbed, record: Record
) -> None:
    """(e) Every real server of web2's VIP on one LB set to weight 0 and back every 0.25 s."""
    lb = "web2@node5"
    servers = ",".join(f"{a}:8080" for a in _web2_backends(healed))
    before = _received_updates(healed, lb)
    subprocess.run(
        inside(healed.lb(lb).box.netns, sys.executable, "-c", _FLAP, "10.1.2.1:80", servers, "30"),
        check=True,
        timeout=120,
    )
    updates = _received_updates(healed, lb) - before
    record("announce.flap_2hz_30s_updates", updates)
    assert updates <= 6, updates  # of 60 flaps


def _web2_backends(bed: Testbed) -> list[IPv4Address]:
    return [a for b in bed.layout.backends if b.service == "web2" and (a := b.box.address)]


# long against the hook's staleness bound (5 s) and the pool's stale mark, short of the watch's
# own timeout: 60 s measured the same (0 failed requests) when it was the VM suite's length
OUTAGE_SECONDS = 20


def test_an_api_outage_withdraws_no_lb_and_every_request_succeeds(
    healed: Testbed, record: Record
) -> None:
    """(f) Static stability: the API server is what every LB shares."""
    before = healed.see.nexthops()
    healed.workloads.set_api(up=False)
    failed = 0
    try:
        deadline = time.monotonic() + OUTAGE_SECONDS
        while time.monotonic() < deadline:
            assert healed.see.nexthops() == before
            answers = healed.see.ask("10.1.1.1", 80, 2) + healed.see.ask("10.1.2.1", 80, 2)
            failed += sum(1 for a in answers if a.startswith("error"))
            time.sleep(1)
        assert "lbgen_hook_pool_stale 1.0" in healed.see.metrics("web1@node4")
    finally:
        healed.workloads.set_api(up=True)
    wait_for(
        lambda: "lbgen_hook_pool_stale 0.0" in healed.see.metrics("web1@node4"),
        timeout=120,
        what="resynced",
    )
    record("announce.api_outage", {"seconds": OUTAGE_SECONDS, "failed_requests": failed})
    assert failed == 0
