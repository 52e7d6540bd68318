"""The LB pod's steps: datapath commands, /proc parsers, and the edges that act on processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from ipaddress import IPv4Address
from pathlib import Path

import pytest

from lbgen.compiler import compile_file
from lbgen.errors import LbgenError
from lbgen.plan import PodConfig
from lbgen.runtime.ipvs import read_ipvs
from lbgen.runtime.pod import process, steps
from lbgen.runtime.pod.datapath import local_routes, nft_ruleset, sysctl_problems
from lbgen.runtime.pod.facts import pod_facts, read_pod_config
from lbgen.runtime.pod.health import ready
from lbgen.runtime.pod.probes import established_bgp_peers, readiness_problems
from lbgen.testbed import processes as testbed_processes
from lbgen.testbed.pods import within
from tests.conftest import ROOT
from tests.support.podrun import pod_run

# /proc/net/tcp as the kernel prints it: 172.16.20.2:41000 → 10.0.0.109:179 established,
# a listening socket, and a session to another host's port 179 in TIME_WAIT
PROC_NET_TCP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 021410AC:A028 6D00000A:00B3 01 00000000:00000000 00:00000000 00000000     0        0 1 1
   1: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1
   2: 021410AC:A029 6E00000A:00B3 06 00000000:00000000 00:00000000 00000000     0        0 3 1
"""
# /proc/net/ip_vs with TCP 10.1.1.1:80 (mh) and one real server
PROC_NET_IP_VS = """\
IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port Forward Weight ActiveConn InActConn
TCP  0A010101:0050 mh
  -> AC100105:1F90      Masq    1      0          0
"""


@pytest.fixture(scope="module")
def config() -> PodConfig:
    plan = compile_file(ROOT / "examples/paper.yaml", "examples/paper.yaml").plan
    assert plan is not None
    return PodConfig(header="h", source="examples/paper.yaml", service=plan.services[0])


def test_the_prefix_is_routed_as_local_so_ipvs_sees_every_vip(config: PodConfig) -> None:
    assert local_routes(config.service) == [
        [
            "ip",
            "-4",
            "route",
            "replace",
            "local",
            "10.1.1.0/24",
            "dev",
            "lo",
            "table",
            "local",
        ]
    ]


def test_ipvs_traffic_to_backends_is_masqueraded(config: PodConfig) -> None:
    assert "ip daddr 172.16.0.0/16 ct original ip daddr { 10.1.1.1 } masquerade" in nft_ruleset(
        config.service
    )


def test_missing_or_wrong_sysctls_are_named() -> None:
    problems = sysctl_problems(
        {
            "net.ipv4.ip_forward": "0\n",
            "net.ipv4.vs.conntrack": None,
            "net.ipv4.vs.conn_reuse_mode": "0",
            "net.ipv4.vs.expire_nodest_conn": "0",
        }
    )
    assert problems == [
        "net.ipv4.ip_forward is 0, needs 1",
        "net.ipv4.vs.conntrack does not exist (is ip_vs loaded on the node?)",
    ]


def test_established_bgp_sessions_are_read_from_proc() -> None:
    assert established_bgp_peers(PROC_NET_TCP, IPv4Address("172.16.20.2")) == {
        IPv4Address("10.0.0.109")
    }


def test_ipvs_virtual_services_are_read_from_proc() -> None:
    assert set(read_ipvs(PROC_NET_IP_VS)) == {("TCP", IPv4Address("10.1.1.1"), 80)}


def test_ready_needs_a_session_with_a_reflector() -> None:
    rr = [IPv4Address("10.0.0.109")]
    assert readiness_problems({rr[0]}, rr) == []
    assert readiness_problems(set(), rr) == ["no BGP session with any reflector is established"]


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


def test_downward_api_facts_must_be_addresses() -> None:
    assert pod_facts({"POD_IP": "172.16.20.2", "NODE_IP": "10.0.0.106"}).node_ip == IPv4Address(
        "10.0.0.106"
    )
    with pytest.raises(LbgenError, match="POD_IP and NODE_IP"):
        pod_facts({"POD_IP": "172.16.20.2"})


def test_the_pod_reads_the_lb_json_the_build_wrote(tmp_path: Path) -> None:
    result = compile_file(ROOT / "examples/paper.yaml", "examples/paper.yaml")
    assert result.tree is not None
    (tmp_path / "lb.json").write_text(result.tree["cluster/services/web2/lb.json"])
    assert read_pod_config(tmp_path / "lb.json").service.name == "web2"
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(LbgenError, match="not an lbgen LB config"):
        read_pod_config(tmp_path / "bad.json")


def test_exabgp_starts_with_its_config_rendered_and_no_pid_file_of_its_own(
    config: PodConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: dict[str, object] = {}
    monkeypatch.setattr(os, "execvpe", lambda f, a, e: started.update(file=f, argv=a, env=e))
    steps.start_exabgp(config, {"POD_IP": "172.16.20.2", "NODE_IP": "10.0.0.106"}, run=tmp_path)
    conf = (tmp_path / "exabgp.conf").read_text()
    assert f"run {sys.executable} -m lbgen pod announce --config /etc/lbgen/lb.json" in conf
    assert "--route 10.1.1.0/24 10.0.0.106;" in conf
    assert "local-address 172.16.20.2;" in conf
    assert started["argv"] == ["exabgp", str(tmp_path / "exabgp.conf")]
    env = started["env"]
    assert isinstance(env, dict)
    assert env["exabgp.daemon.daemonize"] == "false"
    assert env["exabgp.daemon.pid"] == ""
    assert (tmp_path / "exabgp.pid").read_text() == f"{os.getpid()}\n"


def _child(*argv: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", *argv])


def test_alive_sees_a_running_process_and_a_missing_one(tmp_path: Path) -> None:
    child = _child()
    try:
        (tmp_path / "k.pid").write_text(f"{child.pid}\n")
        assert process.alive(tmp_path / "k.pid") is None
    finally:
        child.kill()
        child.wait()
    assert "no running process" in (process.alive(tmp_path / "k.pid") or "")
    assert "no running process" in (process.alive(tmp_path / "missing.pid") or "")


def test_withdraw_stops_exabgp_and_leaves_other_processes_alone(tmp_path: Path) -> None:
    exabgp, other = _child("exabgp", "/run/lbgen/exabgp.conf"), _child("keepalived")
    try:
        (tmp_path / "other.pid").write_text(f"{other.pid}\n")
        assert "not exabgp" in process.withdraw(tmp_path / "other.pid")
        assert other.poll() is None
        (tmp_path / "exabgp.pid").write_text(f"{exabgp.pid}\n")
        assert "route withdrawn" in process.withdraw(tmp_path / "exabgp.pid")
        assert exabgp.wait(timeout=5) != 0
    finally:
        for child in (exabgp, other):
            child.kill()
            child.wait()
    assert "nothing to withdraw" in process.withdraw(tmp_path / "exabgp.pid")


def test_setup_refuses_to_start_without_the_ipvs_sysctls(config: PodConfig, tmp_path: Path) -> None:
    """A kubelet that did not set them, or a node without ip_vs: say which, change nothing."""
    proc_sys = tmp_path / "sys"
    (proc_sys / "net/ipv4").mkdir(parents=True)
    (proc_sys / "net/ipv4/ip_forward").write_text("1\n")
    run = tmp_path / "run"
    run.mkdir()
    with pytest.raises(LbgenError, match=r"net\.ipv4\.vs\.conntrack does not exist"):
        steps.setup(config, tmp_path, run=run, proc_sys=proc_sys)
    assert list(run.iterdir()) == []


def test_an_image_path_is_resolved_inside_the_image_not_on_the_host(tmp_path: Path) -> None:
    """An image's /var/run is a link to /run: a volume mounted at /var/run/... must land in
    the image's /run, never the host's."""
    rootfs = tmp_path / "rootfs"
    (rootfs / "run/secrets").mkdir(parents=True)
    (rootfs / "var").mkdir()
    (rootfs / "var/run").symlink_to("/run")
    (rootfs / "etc/lbgen").mkdir(parents=True)
    assert within(str(rootfs), "/var/run/secrets/token") == f"{rootfs}/run/secrets/token"
    assert within(str(rootfs), "/etc/lbgen") == f"{rootfs}/etc/lbgen"


def test_a_zombie_counts_as_ended_when_the_testbed_goes_down() -> None:
    """`down` from another process sees its processes' exits only as zombies until init reaps
    them; waiting for /proc/PID to vanish made down take 94–97 s."""
    child = subprocess.Popen(["true"])
    deadline = time.monotonic() + 10
    while testbed_processes.running(child.pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert Path(f"/proc/{child.pid}").exists()  # not reaped yet: a zombie
    assert not testbed_processes.running(child.pid)
    child.wait()
    assert not testbed_processes.running(child.pid)


def test_ending_one_testbed_process_leaves_the_others_running_and_waits_for_none_of_them() -> None:
    """Stopping one LB ended it, then waited a second on every other child still running: 27 s
    to stop one LB of the edge testbed (its withdraw took 0.24 s)."""
    waited: list[int] = []

    class Watched(subprocess.Popen[bytes]):
        def wait(self, timeout: float | None = None) -> int:
            waited.append(self.pid)
            return super().wait(timeout)

    others = [Watched(["sleep", "30"]) for _ in range(3)]
    one = Watched(["sleep", "30"])
    children: dict[int, subprocess.Popen[bytes]] = {p.pid: p for p in [*others, one]}
    try:
        testbed_processes.end_all([one.pid], children, lambda _pid: True)
        assert one.poll() is not None
        assert all(p.poll() is None for p in others)
        assert not {p.pid for p in others} & set(waited)
    finally:
        for p in others:
            p.kill()
            p.wait()
