"""lbgen/runtime/pod/health.py: whether an LB pod's datapath can serve (keepalived, IPVS holding
every VIP:port with a real server, the hook's heartbeat), per family; and the readiness probe
reading lb.json, /proc and the pod's run folder."""

from __future__ import annotations

import json
import os
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path
from typing import Any

import pytest

from lbgen.compiler import compile_file
from lbgen.plan import PodConfig, ServicePlan
from lbgen.runtime.ipvs import read_ipvs
from lbgen.runtime.pod.health import Observed, datapath_problems, hook_problem, observe, ready
from lbgen.runtime.pod.probes import established_bgp_peers
from tests.conftest import ROOT
from tests.support.podrun import pod_run
from tests.support.procfs import PROC_NET_IP_VS, PROC_NET_TCP

WEB = ("TCP", IPv4Address("10.1.1.1"), 80)


SERVER = ((IPv4Address("172.16.1.5"), 8080), 1)


DRAINING = ((IPv4Address("172.16.1.6"), 8080), 0)


def seen(**given: Any) -> Observed:
    facts: dict[str, Any] = {
        "ipvs": {WEB: (SERVER,)},
        "keepalived": (),
        "hook": None,
        "configured": frozenset({WEB}),
    }
    return Observed(**{**facts, **given})


# /proc/net/tcp6: fd00:71:0:1::a port 40000 → fd00:70::2 port 179, established
TCP6 = (
    "  sl  local_address                         remote_address                        st\n"
    "   0: 710000FD01000000000000000A000000:9C40 700000FD000000000000000002000000:00B3 01\n"
    "   1: 710000FD01000000000000000A000000:9C41 700000FD000000000000000003000000:00B3 02\n"
)


@pytest.fixture(scope="module")
def config() -> PodConfig:
    plan = compile_file(ROOT / "examples/paper.yaml", "examples/paper.yaml").plan
    assert plan is not None
    return PodConfig(header="h", source="examples/paper.yaml", service=plan.services[0])


def test_a_datapath_with_every_part_running_serves() -> None:
    assert datapath_problems([WEB], seen()) == []


@pytest.mark.parametrize(
    ("broken", "problem"),
    [
        ({"keepalived": ("keepalived: process 7 is stopped",)}, "keepalived: process 7 is stopped"),
        ({"hook": "the hook has been silent for 6.0 s"}, "the hook has been silent for 6.0 s"),
        ({"ipvs": None}, "the IPVS table cannot be read"),
        ({"ipvs": {}}, "IPVS has no virtual service for TCP 10.1.1.1:80"),
        ({"ipvs": {WEB: ()}}, "IPVS has no real server of weight > 0 for TCP 10.1.1.1:80"),
        ({"ipvs": {WEB: (DRAINING,)}}, "IPVS has no real server of weight > 0 for TCP 10.1.1.1:80"),
    ],
    ids=["keepalived-stopped", "hook-silent", "no-table", "flushed", "empty-pool", "draining-only"],
)
def test_each_local_failure_keeps_the_datapath_from_serving(
    broken: dict[str, Any], problem: str
) -> None:
    assert problem in datapath_problems([WEB], seen(**broken))


def test_readiness_leaves_the_backend_out() -> None:
    """An empty pool: not announced, yet ready (an empty backend must not stall a rollout)."""
    empty = seen(ipvs={WEB: ()})
    assert datapath_problems([WEB], empty, backend=False) == []


def test_the_hooks_heartbeat_goes_stale() -> None:
    status = json.dumps({"beat": 100.0, "configured": [["TCP", "10.1.1.1", 80]]})
    assert hook_problem(status, 104.0, 5.0) == (None, {WEB})
    problem, _ = hook_problem(status, 106.0, 5.0)
    assert problem == "the hook has been silent for 6.0 s (frozen or dead)"
    assert hook_problem(None, 0, 5)[0] == "the hook has written no status yet"
    assert hook_problem("{", 0, 5)[0] == "the hook's status cannot be read"


def test_a_stopped_keepalived_counts_as_dead(tmp_path: Path) -> None:
    proc = tmp_path / "proc"
    (proc / "4242").mkdir(parents=True)
    (proc / "4242/stat").write_text("4242 (keepalived) T 1 4242 4242 0 -1\n")
    pod_run(tmp_path / "run", [], pid=4242)
    found = observe({}, 5.0, tmp_path / "run", proc)
    assert found.keepalived == (
        "keepalived: process 4242 is stopped",
        "keepalived: process 4242 is stopped",
    )
    assert found.ipvs is None  # and no table to read: a check that cannot run fails


def test_readiness_reads_ipv6_virtual_servers_and_wants_them() -> None:
    text = (
        "IP Virtual Server version 1.2.1 (size=4096)\n"
        "TCP  CB007141:0050 mh (mh-port)\n"
        "  -> 0A3C0264:1F90      Masq    1      0          0\n"
        "TCP  [2001:0db8:0064:0000:0000:0000:0000:0080]:0050 mh (mh-port)\n"
        "  -> [fd00:0061:0000:0002:0000:0000:0000:0100]:1F90      Masq    1      0          0\n"
    )
    four = ("TCP", IPv4Address("203.0.113.65"), 80)
    six_vs = ("TCP", IPv6Address("2001:db8:64::80"), 80)
    assert set(read_ipvs(text)) == {four, six_vs}
    seen = Observed(
        read_ipvs(text.replace("[2001:0db8:0064", "[2001:0db8:0065")), (), None, frozenset()
    )
    assert datapath_problems([four, six_vs], seen) == [
        "IPVS has no virtual service for TCP 2001:db8:64::80:80"
    ]


def test_readiness_reads_the_ipv6_session_from_proc_net_tcp6(
    six_web: ServicePlan, tmp_path: Path
) -> None:
    pod = IPv6Address("fd00:71:0:1::a")
    assert established_bgp_peers(TCP6, pod) == {IPv6Address("fd00:70::2")}
    proc, run = tmp_path / "proc", tmp_path / "run"
    (proc / "net").mkdir(parents=True)
    (proc / "net/tcp6").write_text(TCP6)
    (proc / "net/ip_vs").write_text("")
    (proc / str(os.getpid())).symlink_to(f"/proc/{os.getpid()}")
    pod_run(run, configured=[["TCP", "2001:db8:70::80", 80]])
    lb_json = PodConfig(header="h", source="s", service=six_web).model_dump_json()
    assert ready(lb_json, {"POD_IP": str(pod)}, proc, run) == [
        "IPVS has no virtual service for TCP 2001:db8:70::80:80"
    ]
    assert ready(lb_json, {"POD_IP": "10.0.0.1"}, proc, run) == [
        "POD_IP is not set to the pod's IPv6 address (downward API status.podIP)"
    ]


def test_the_ready_probe_reads_lb_json_a_proc_tree_and_the_pods_run_folder(
    config: PodConfig, tmp_path: Path
) -> None:
    proc, run = tmp_path / "proc", tmp_path / "run"
    (proc / "net").mkdir(parents=True)
    (proc / "net/tcp").write_text(PROC_NET_TCP)
    (proc / str(os.getpid())).symlink_to(f"/proc/{os.getpid()}")
    pod_run(run, configured=[["TCP", "10.1.1.1", 80]])
    env = {"POD_IP": "172.16.20.2", "NODE_IP": "10.0.0.106"}
    lb_json = config.model_dump_json()
    assert ready(lb_json, env, proc, run) == ["the IPVS table cannot be read"]
    (proc / "net/ip_vs").write_text(PROC_NET_IP_VS.replace("0A010101:0050", "0A010101:0051"))
    assert ready(lb_json, env, proc, run) == ["IPVS has no virtual service for TCP 10.1.1.1:80"]
    (proc / "net/ip_vs").write_text(PROC_NET_IP_VS)
    assert ready(lb_json, env, proc, run) == []
    # a backend with no ready endpoint has no virtual server to want: still ready
    pod_run(run, configured=[])
    (proc / "net/ip_vs").write_text("")
    assert ready(lb_json, env, proc, run) == []
    assert ready(lb_json, {}, proc, run) == [
        "POD_IP is not set to the pod's IPv4 address (downward API status.podIP)"
    ]
