"""lbgen/runtime/pod/steps.py: an LB pod's steps: setup refuses to start without its IPVS
sysctls; exabgp starts on its rendered config (each reflector's password from the Secret
volume, an IPv6 prefix via the node's address6 from nodes.json)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from lbgen.compiler import compile_file
from lbgen.errors import LbgenError
from lbgen.plan import PodConfig, ServicePlan
from lbgen.runtime.pod import steps
from lbgen.runtime.pod.steps import exabgp_conf
from tests.conftest import ROOT
from tests.unit.conftest import EdgeDns


@pytest.fixture(scope="module")
def config() -> PodConfig:
    plan = compile_file(ROOT / "examples/paper.yaml", "examples/paper.yaml").plan
    assert plan is not None
    return PodConfig(header="h", source="examples/paper.yaml", service=plan.services[0])


def test_the_pod_announces_its_ipv6_prefix_via_its_nodes_address6(
    dual_web: ServicePlan, tmp_path: Path
) -> None:
    """Its node's address6 comes from the fabric's one nodes.json, not a list in each lb.json."""
    tree = compile_file(ROOT / "examples/dualstack.yaml", "examples/dualstack.yaml").tree
    assert tree is not None
    nodes = tmp_path / "nodes.json"
    nodes.write_text(tree["cluster/fabric/nodes.json"])
    assert "fd00:60::11" not in tree["cluster/services/web/lb.json"]
    config = PodConfig(header="h", source="x", service=dual_web)
    env = {"POD_IP": "10.60.1.11", "NODE_IP": "192.168.60.11", "NODE_NAME": "n1"}
    conf = exabgp_conf(config, env, nodes_path=nodes)
    assert "--route 2001:db8:64::/64 fd00:60::11;" in conf
    with pytest.raises(LbgenError, match=r"no IPv6 address in .*nodes\.json"):
        exabgp_conf(config, {**env, "NODE_NAME": "elsewhere"}, nodes_path=nodes)


def test_the_lb_pods_exabgp_reads_each_reflectors_password_from_its_secret_volume(
    tmp_path: Path, edge_dns: EdgeDns
) -> None:
    _, config = edge_dns
    folder = tmp_path / "bgp"
    folder.mkdir()
    (folder / "rr-a").write_text("pw-of-rr-a\n")
    (folder / "rr-b").write_text("pw-of-rr-b")
    reflectors = tuple(
        rr.model_copy(update={"password_file": str(folder / rr.name)})
        for rr in config.service.reflectors
    )
    moved = config.model_copy(
        update={"service": config.service.model_copy(update={"reflectors": reflectors})}
    )
    text = exabgp_conf(moved, {"POD_IP": "100.64.1.11", "NODE_IP": "10.20.0.11"})
    assert "neighbor 10.20.0.3 {" in text
    assert text.count("md5-password pw-of-rr-a;") == 1
    assert text.count("md5-password pw-of-rr-b;") == 1
    (folder / "rr-b").unlink()
    with pytest.raises(LbgenError, match=r"bgp/rr-b: cannot read the BGP password"):
        exabgp_conf(moved, {"POD_IP": "100.64.1.11", "NODE_IP": "10.20.0.11"})


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
