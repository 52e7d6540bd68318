"""The compiled paper fabric, run by the real daemons in network namespaces (issue: testbed).

FRR bgpd + zebra on the router, gobgpd on the reflector, exabgp in each LB pod, all from the
files lbgen compiled; the node agent's routes on the nodes; a client behind the router. This
kernel has no IPVS: traffic is proved to reach the LB pods through ECMP, not forwarded by IPVS."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from ipaddress import IPv4Address
from pathlib import Path

import pytest

from lbgen.contract import NON_ROOT_UID
from lbgen.testbed.bed import Testbed
from tests.support.rogue import rogue_speaker, router_paths
from tests.support.testbeds import running
from tests.support.waiting import wait_for

pytestmark = pytest.mark.daemons


@pytest.fixture(scope="module")
def testbed(lb_image: Path) -> Iterator[Testbed]:
    yield from running("paper", "lbt", lb_image)


def _a(*hosts: int) -> set[IPv4Address]:
    return {IPv4Address(f"10.0.0.{h}") for h in hosts}


def test_each_service_has_one_next_hop_per_node_running_one_of_its_lbs(testbed: Testbed) -> None:
    # the paper's Fig. 12 (c): two services sharing nodes, three and two LBs
    assert testbed.see.router_nexthops("router") == {
        "web1": _a(104, 105, 106),
        "web2": _a(104, 105),
    }


def test_scaling_out_to_another_node_and_back_in(testbed: Testbed) -> None:
    added = testbed.workloads.add_lb("web2", "node6")
    try:
        wait_for(
            lambda: testbed.see.router_nexthops("router")["web2"] == _a(104, 105, 106),
            timeout=30,
            what="the new LB's path",
        )
        conf = testbed.workdir / f"{testbed.prefix}l1-node6" / "run" / "keepalived.conf"
        wait_for(
            lambda: conf.exists() and "real_server" in conf.read_text(),
            timeout=30,
            what="the new LB's pool",
        )
    finally:
        testbed.workloads.remove_lb(added)
    wait_for(
        lambda: testbed.see.router_nexthops("router")["web2"] == _a(104, 105),
        timeout=30,
        what="scale in",
    )


def test_a_cut_link_is_noticed_by_the_hold_time_and_healed(testbed: Testbed) -> None:
    testbed.faults.set_lb_link("web2@node4", up=False)
    try:
        wait_for(
            lambda: testbed.see.router_nexthops("router")["web2"] == _a(105),
            timeout=30,
            what="hold expiry",
        )
    finally:
        testbed.faults.set_lb_link("web2@node4", up=True)
    wait_for(
        lambda: testbed.see.router_nexthops("router")["web2"] == _a(104, 105),
        timeout=60,
        what="recovery",
    )


def test_a_node_cut_off_loses_the_paths_of_every_lb_on_it(testbed: Testbed) -> None:
    testbed.faults.set_node_link("node5", up=False)
    try:
        wait_for(
            lambda: (
                testbed.see.router_nexthops("router") == {"web1": _a(104, 106), "web2": _a(104)}
            ),
            timeout=30,
            what="hold expiry of both LBs on node5",
        )
    finally:
        testbed.faults.set_node_link("node5", up=True)
    wait_for(
        lambda: (
            testbed.see.router_nexthops("router")
            == {"web1": _a(104, 105, 106), "web2": _a(104, 105)}
        ),
        timeout=60,
        what="recovery",
    )


def test_each_lb_pods_containers_run_from_the_image_as_their_users(
    testbed: Testbed, lb_image: Path
) -> None:
    """exabgp and hook run in the image's root filesystem (the exabgp, python3 and lbgen the
    Deployment names are the image's), exabgp as the non-root user its securityContext says."""
    state = testbed.processes()
    for lb in testbed.layout.lbs:
        for container, uid in (("exabgp", NON_ROOT_UID), ("hook", 0)):
            pid = state[f"{lb.box.netns}-{container}"]
            assert Path(f"/proc/{pid}/root").resolve() == lb_image.resolve()
            status = Path(f"/proc/{pid}/status").read_text()
            assert f"Uid:\t{uid}\t" in status, (container, status)
        assert "exabgp" in Path(f"/proc/{state[f'{lb.box.netns}-exabgp']}/cmdline").read_text()


def test_the_kubelets_probes_run_inside_the_image(testbed: Testbed) -> None:
    """Each exec probe of the Deployment, run inside its container: exabgp is alive and ready
    (a session, and the stand-in's IPVS table holds what the hook configured); keepalived's
    stand-in is alive. Without any IPVS table the pod is not ready, and says why."""
    lb = testbed.layout.lbs[0].box.name
    probes = testbed.workloads.container_hooks(lb, "exabgp")
    alive = testbed.workloads.exec_in(lb, "exabgp", probes["livenessProbe"])
    assert alive.returncode == 0, alive.stderr
    ready = testbed.workloads.exec_in(lb, "exabgp", probes["readinessProbe"])
    assert ready.returncode == 0, ready.stderr
    keepalived_alive = testbed.workloads.exec_in(
        lb, "keepalived", testbed.workloads.container_hooks(lb, "keepalived")["livenessProbe"]
    )
    assert keepalived_alive.returncode == 0, keepalived_alive.stderr
    no_table = testbed.core.pods.run(
        testbed.lb(lb), "exabgp", probes["readinessProbe"], env={"LBGEN_IPVS_TABLE": "/nowhere"}
    )
    assert no_table.returncode == 1
    assert no_table.stderr == "not ready: the IPVS table cannot be read\n"


def test_lbgen_hook_in_each_lb_pod_fills_its_pool_from_the_api(testbed: Testbed) -> None:
    """The pods' hook containers, started as the Deployment says, against the stand-in API
    server: each LB's keepalived.conf holds its own service's backends and no other's."""
    every = {str(b.box.address) for b in testbed.layout.backends}
    for lb in testbed.layout.lbs:
        own = {str(b.box.address) for b in testbed.layout.backends if b.service == lb.service}
        conf = testbed.workdir / lb.box.netns / "run" / "keepalived.conf"
        wait_for(
            lambda conf=conf, own=own: all(
                f"real_server {a} 8080" in conf.read_text() for a in own
            ),
            timeout=60,
            what="the pool",
        )
        assert not any(f"real_server {a} " in conf.read_text() for a in every - own)
    code = (
        "import json,sys,urllib.request as u\n"
        "print(json.load(u.urlopen(sys.argv[1], timeout=5))['status'])"
    )
    for service in testbed.plan.services:
        api = testbed.workloads.api_url
        url = f"{api}/api/v1/namespaces/{service.namespace}/services/{service.name}"
        status = subprocess.run(
            [
                "ip",
                "netns",
                "exec",
                testbed.layout.lbs[0].box.netns,
                sys.executable,
                "-c",
                code,
                url + "/status",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert f"'ip': '{service.vips[0]}', 'ipMode': 'Proxy'" in status


def test_a_client_reaches_every_vip_through_ecmp_and_the_flows_spread(testbed: Testbed) -> None:
    answers = testbed.see.ask("10.1.1.1", 80, 60)
    assert all("ipvs=not-in-kernel" in a for a in answers)
    lbs = {a.split()[1] for a in answers}
    assert lbs <= {"lb=web1@node4", "lb=web1@node5", "lb=web1@node6"}
    assert len(lbs) >= 2  # 5-tuple hashing (fib_multipath_hash_policy=1) spreads new flows
    assert {a.split()[1] for a in testbed.see.ask("10.1.2.1", 80, 20)} <= {
        "lb=web2@node4",
        "lb=web2@node5",
    }


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "graceful"])
def test_the_fib_follows_an_lb_that_stops_and_comes_back(
    testbed: Testbed, sig: signal.Signals
) -> None:
    testbed.faults.stop_lb("web1@node5", sig)
    wait_for(
        lambda: testbed.see.router_nexthops("router")["web1"] == _a(104, 106),
        timeout=30,
        what="withdraw",
    )
    assert testbed.see.router_nexthops("router")["web2"] == _a(104, 105)
    testbed.workloads.start_lb("web1@node5")
    wait_for(
        lambda: testbed.see.router_nexthops("router")["web1"] == _a(104, 105, 106),
        timeout=30,
        what="re-announce",
    )


def _gobgp(testbed: Testbed, *argv: str) -> str:
    rr = testbed.layout.reflectors[0].netns
    return subprocess.run(
        ["ip", "netns", "exec", rr, "gobgp", "-u", "127.0.0.1", "-p", "50051", *argv],
        capture_output=True,
        text=True,
        check=False,
    ).stdout


def _router_fib(testbed: Testbed) -> str:
    return subprocess.run(
        ["ip", "-n", testbed.layout.routers[0].netns, "route", "show"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


@pytest.mark.parametrize(
    ("route", "shown"),
    [
        ("0.0.0.0/0 next-hop 10.0.0.101", "0.0.0.0/0"),
        ("10.1.1.0/25 next-hop 10.0.0.101", "10.1.1.0/25"),
        ("10.1.2.0/24 next-hop 10.9.9.9", "10.9.9.9"),
    ],
    ids=["default-route", "more-specific-of-a-service", "service-prefix-foreign-next-hop"],
)
def test_the_reflector_refuses_what_no_lb_may_announce(
    testbed: Testbed, tmp_path: Path, route: str, shown: str
) -> None:
    before, fib = testbed.see.router_nexthops("router"), _router_fib(testbed)
    with rogue_speaker(testbed, [route], tmp_path, "node1") as address:
        # the route arrived at the reflector (adj-in, before policy) ...
        wait_for(
            lambda: shown in _gobgp(testbed, "neighbor", address, "adj-in"),
            timeout=30,
            what="the rogue route to reach the reflector",
        )
        time.sleep(1)
        # ... and went no further
        assert shown not in _gobgp(testbed, "global", "rib")
        assert testbed.see.router_nexthops("router") == before
        assert _router_fib(testbed) == fib


@pytest.mark.parametrize(
    ("node", "route", "accepted"),
    [
        ("node1", "10.1.1.0/24 next-hop 10.0.0.101 local-preference 200", False),
        ("node1", "10.1.1.0/24 next-hop 10.0.0.104 local-preference 200", False),
        ("node4", "10.1.1.0/24 next-hop 10.0.0.104 as-path [ 64999 ]", False),
        (
            "node4",
            "10.1.1.0/24 next-hop 10.0.0.104 local-preference 200 med 0 community [ 65000:1 ]",
            True,
        ),
    ],
    ids=[
        "non-lb-node-as-next-hop-with-local-pref-200",
        "pod-elsewhere-naming-an-lb-node",
        "non-empty-as-path",
        "pod-on-an-lb-node-with-winning-attributes",
    ],
)
def test_no_speaker_in_the_pod_network_can_take_a_services_traffic(
    testbed: Testbed, tmp_path: Path, node: str, route: str, *, accepted: bool
) -> None:
    """The reflector accepts a service prefix only via a node that may run one of its LBs,
    from a pod on that node, with an empty AS path, and resets LOCAL_PREF, MED and
    communities: the router's multipath keeps every LB."""
    before = testbed.see.router_nexthops("router")
    with rogue_speaker(testbed, [route], tmp_path, node=node) as address:
        wait_for(
            lambda: "10.1.1.0/24" in _gobgp(testbed, "neighbor", address, "adj-in"),
            timeout=30,
            what="the rogue route to reach the reflector",
        )
        time.sleep(1.5)
        rib = json.loads(_gobgp(testbed, "global", "rib", "10.1.1.0/24", "-j") or "{}")
        senders = {p.get("neighbor-ip") for paths in rib.values() for p in paths}
        assert (address in senders) is accepted, senders
        assert testbed.see.router_nexthops("router") == before
        paths = router_paths(testbed, "10.1.1.0/24")
        assert {p.get("locPrf") for p in paths} == {100}, paths
        assert not any("community" in p for p in paths), paths


def test_ten_thousand_junk_prefixes_trip_the_prefix_limit(testbed: Testbed, tmp_path: Path) -> None:
    before, fib = testbed.see.router_nexthops("router"), _router_fib(testbed)
    junk = [f"100.{64 + i // 256}.{i % 256}.0/24 next-hop 10.0.0.101" for i in range(10000)]
    rr_log = testbed.workdir / "log" / f"{testbed.layout.reflectors[0].netns}-gobgpd.log"
    with rogue_speaker(testbed, junk, tmp_path, "node1"):
        wait_for(
            lambda: "prefix limit" in rr_log.read_text().lower(),
            timeout=60,
            what="the prefix limit to trip",
        )
        assert "100.64." not in _gobgp(testbed, "global", "rib")
        assert testbed.see.router_nexthops("router") == before
        assert _router_fib(testbed) == fib
