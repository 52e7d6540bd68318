"""cluster/ is what Argo CD or Flux applies: it must build with kustomize, validate against the
Kubernetes schemas, and carry daemon configs their daemons accept."""

from __future__ import annotations

import subprocess
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
from ruamel.yaml import YAML

from lbgen.compiler import compile_file
from lbgen.errors import LbgenError
from lbgen.output import Mode, sync
from lbgen.plan import PodConfig, ServicePlan
from lbgen.render.exabgp import render_exabgp
from lbgen.render.keepalived import RealServer, render_keepalived
from lbgen.runtime.pod.steps import exabgp_conf
from tests.conftest import ANNOUNCER, CASES, ROOT, require_tool

pytestmark = pytest.mark.daemons

KUBERNETES = "1.32.0"
# custom resources have no schema in kubernetes-validate; their shape is pinned by the goldens
# (the Prometheus Operator's by its CRDs: test_monitoring.py)
CUSTOM_KINDS = {"Application", "GitRepository", "Kustomization", "PodMonitor", "PrometheusRule"}
SPECS = [
    *sorted((ROOT / "examples").glob("*.yaml")),
    *sorted((CASES / "valid").glob("*/spec.yaml")),
]
GOLDEN = ROOT / "tests/golden"


def _built(spec: Path, tmp_path: Path) -> Path:
    result = compile_file(spec, "spec.yaml")
    assert result.tree is not None, result.diagnostics
    sync(tmp_path, result.tree, "spec.yaml", Mode.WRITE)
    return tmp_path


def _run(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(argv), capture_output=True, text=True, timeout=120, check=False, env=env
    )


def _golden(name: str, text: str, update: bool) -> str:
    """The committed expected text (rewritten first with --update-golden)."""
    path = GOLDEN / name
    if update:
        path.write_text(text, encoding="utf-8")
    return path.read_text(encoding="utf-8")


def _kustomize(folder: Path) -> list[dict[str, Any]]:
    done = _run(require_tool("kubectl"), "kustomize", str(folder))
    assert done.returncode == 0, done.stderr
    return [d for d in YAML(typ="safe").load_all(done.stdout) if d]


@pytest.mark.parametrize(
    "spec", SPECS, ids=[s.parent.name if s.name == "spec.yaml" else s.stem for s in SPECS]
)
def test_cluster_builds_with_kustomize_and_validates_strictly(spec: Path, tmp_path: Path) -> None:
    out = _built(spec, tmp_path)
    docs = _kustomize(out / "cluster")
    assert {d["kind"] for d in docs} >= {
        "Namespace",
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "DaemonSet",
    }
    gitops = [
        d
        for p in sorted((out / "gitops").glob("*.yaml"))
        for d in YAML(typ="safe").load_all(p.read_text())
        if d
    ]
    for doc in docs + gitops:
        if doc["kind"] in CUSTOM_KINDS:
            continue
        kubernetes_validate.validate(doc, KUBERNETES, strict=True)


def test_strict_validation_rejects_an_unknown_field(tmp_path: Path) -> None:
    """A negative control: the validation above can fail."""
    docs = _kustomize(_built(ROOT / "examples/paper.yaml", tmp_path) / "cluster")
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["privilegd"] = True
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES, strict=True)


def test_a_changed_daemon_config_renames_the_configmap_so_pods_roll(tmp_path: Path) -> None:
    out = _built(ROOT / "examples/paper.yaml", tmp_path)
    before = _configmap_refs(_kustomize(out / "cluster"))
    conf = out / "cluster/services/web1/keepalived.conf"
    conf.write_text(conf.read_text() + "! changed\n")
    after = _configmap_refs(_kustomize(out / "cluster"))
    assert before["lb-web1"] != after["lb-web1"]
    assert before["lb-web2"] == after["lb-web2"]


def _configmap_refs(docs: list[dict[str, Any]]) -> dict[str, str]:
    """Deployment → the (hashed) ConfigMap name its pods mount."""
    refs = {}
    for doc in docs:
        if doc["kind"] == "Deployment":
            volumes = doc["spec"]["template"]["spec"]["volumes"]
            name = next(v["configMap"]["name"] for v in volumes if "configMap" in v)
            assert any(d["kind"] == "ConfigMap" and d["metadata"]["name"] == name for d in docs)
            refs[doc["metadata"]["name"]] = name
    return refs


def _keepalived_check(keepalived: str, target: Path, text: str) -> subprocess.CompletedProcess[str]:
    target.write_text(text)
    return _run(keepalived, "-t", "-e", "-f", str(target))


def _paper_services() -> list[ServicePlan]:
    plan = compile_file(ROOT / "examples/paper.yaml", "examples/paper.yaml").plan
    assert plan is not None
    return list(plan.services)


SAMPLE_POOL = {
    ("http", "TCP"): (
        RealServer(IPv4Address("172.16.1.5"), 8080),
        RealServer(IPv4Address("172.16.2.7"), 8080, weight=0),
    ),
}


@pytest.mark.parametrize("service", _paper_services(), ids=lambda s: s.name)
def test_keepalived_accepts_the_sample_with_two_real_servers(
    service: ServicePlan, tmp_path: Path, update_golden: bool
) -> None:
    keepalived = require_tool("keepalived")
    text = render_keepalived(service, SAMPLE_POOL, "examples/paper.yaml")
    assert text == _golden(f"keepalived-{service.name}-two-real-servers.conf", text, update_golden)
    assert text.count("real_server ") == 2
    done = _keepalived_check(keepalived, tmp_path / "keepalived.conf", text)
    assert done.returncode == 0, done.stdout + done.stderr


def test_keepalived_accepts_every_starting_config_and_rejects_a_broken_one(tmp_path: Path) -> None:
    keepalived = require_tool("keepalived")
    for spec in SPECS:
        result = compile_file(spec, "spec.yaml")
        assert result.tree is not None
        for path, text in result.tree.items():
            if path.endswith("keepalived.conf"):
                done = _keepalived_check(keepalived, tmp_path / "k.conf", text)
                assert done.returncode == 0, (spec, path, done.stderr)
    broken = render_keepalived(_paper_services()[0], SAMPLE_POOL, "x").replace(
        "lb_kind NAT", "lb_kind NATT"
    )
    assert _keepalived_check(keepalived, tmp_path / "bad.conf", broken).returncode != 0


@pytest.mark.parametrize("service", _paper_services(), ids=lambda s: s.name)
def test_exabgp_accepts_the_config_rendered_in_the_pod(
    service: ServicePlan, tmp_path: Path, update_golden: bool
) -> None:
    exabgp = require_tool("exabgp")
    text = render_exabgp(
        service,
        IPv4Address("172.16.20.2"),
        IPv4Address("10.0.0.106"),
        "examples/paper.yaml",
        announcer=ANNOUNCER,
    )
    assert text == _golden(f"exabgp-{service.name}.conf", text, update_golden)
    target = tmp_path / "exabgp.conf"
    env = {"PATH": "/usr/bin:/bin", "exabgp.daemon.user": "root"}
    target.write_text(text)
    done = _run(exabgp, "--test", str(target), env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    target.write_text(text.replace("hold-time", "hold-tim"))
    assert _run(exabgp, "--test", str(target), env=env).returncode != 0


def test_exabgp_accepts_the_config_with_each_reflectors_password(tmp_path: Path) -> None:
    """examples/edge.yaml: every LB session authenticated; the rendered file (in the pod's
    memory only) carries one md5-password per reflector and exabgp takes it."""
    exabgp = require_tool("exabgp")
    result = compile_file(ROOT / "examples/edge.yaml", "examples/edge.yaml")
    assert result.plan is not None
    service = next(s for s in result.plan.services if s.name == "dns")
    passwords = {rr.name: f"Pa55-{rr.name}" for rr in service.reflectors}
    text = render_exabgp(
        service,
        IPv4Address("100.64.1.11"),
        IPv4Address("10.20.0.11"),
        "x",
        passwords,
        announcer=ANNOUNCER,
    )
    assert text.count("md5-password Pa55-") == 2
    target = tmp_path / "exabgp.conf"
    target.write_text(text)
    env = {"PATH": "/usr/bin:/bin", "exabgp.daemon.user": "root"}
    done = _run(exabgp, "--test", str(target), env=env)
    assert done.returncode == 0, done.stdout + done.stderr


def test_an_ipv6_only_pods_exabgp_and_keepalived_configs_pass_their_dry_runs(
    tmp_path: Path,
) -> None:
    """examples/ipv6.yaml's web, rendered in the pod from its downward-API facts: exabgp peers
    with the reflectors over IPv6 from the pod's address, with a 32-bit router-id hashed from
    it, and announces only the IPv6 prefix via the node's address6; keepalived takes the IPv6
    VIP and IPv6 backends."""
    exabgp, keepalived = require_tool("exabgp"), require_tool("keepalived")
    result = compile_file(ROOT / "examples/ipv6.yaml", "examples/ipv6.yaml")
    assert result.plan is not None
    web = next(s for s in result.plan.services if s.name == "web")
    config = PodConfig(header="x", source="x", service=web)
    env = {"POD_IP": "fd00:71:0:1::a", "NODE_IP": "fd00:70::11", "NODE_NAME": "n1"}
    assert result.tree is not None
    nodes = tmp_path / "nodes.json"
    nodes.write_text(result.tree["cluster/fabric/nodes.json"])
    text = exabgp_conf(config, env, nodes_path=nodes)
    assert "neighbor fd00:70::2 {" in text
    assert "local-address fd00:71:0:1::a;" in text
    assert "router-id 244.229.231.101;" in text  # 32 bits of a hash of the pod IP
    assert "ipv4 unicast" not in text
    assert "--route 2001:db8:70::/64 fd00:70::11;" in text
    with pytest.raises(LbgenError, match="IPv6 addresses"):
        exabgp_conf(config, {**env, "POD_IP": "10.0.0.1"}, nodes_path=nodes)
    target = tmp_path / "exabgp.conf"
    target.write_text(text)
    done = _run(exabgp, "--test", str(target), env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stdout + done.stderr
    pool = {("http", "TCP"): (RealServer(IPv6Address("fd00:71:0:2::100"), 8080),)}
    conf = render_keepalived(web, pool, "x")
    assert "virtual_server 2001:db8:70::80 80" in conf
    done = _keepalived_check(keepalived, tmp_path / "k6.conf", conf)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_dual_stack_pods_exabgp_and_keepalived_configs_pass_their_dry_runs(
    tmp_path: Path,
) -> None:
    """examples/dualstack.yaml's web: exabgp announces both prefixes (the IPv6 one with the
    node's address6 as next hop), keepalived serves the IPv6 VIP from IPv6 backends only."""
    exabgp, keepalived = require_tool("exabgp"), require_tool("keepalived")
    result = compile_file(ROOT / "examples/dualstack.yaml", "examples/dualstack.yaml")
    assert result.plan is not None
    web = next(s for s in result.plan.services if s.name == "web")
    text = render_exabgp(
        web,
        IPv4Address("10.60.1.11"),
        IPv4Address("192.168.60.11"),
        "x",
        node_ip6=IPv6Address("fd00:60::11"),
        announcer=ANNOUNCER,
    )
    assert "ipv6 unicast;" in text
    assert "--route 2001:db8:64::/64 fd00:60::11;" in text
    target = tmp_path / "exabgp.conf"
    target.write_text(text)
    env = {"PATH": "/usr/bin:/bin", "exabgp.daemon.user": "root"}
    done = _run(exabgp, "--test", str(target), env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    pool = {
        ("http", "TCP"): (
            RealServer(IPv4Address("10.60.2.100"), 8080),
            RealServer(IPv6Address("fd00:61:0:2::100"), 8080),
            RealServer(IPv6Address("fd00:61:0:3::100"), 8080, weight=0),
        )
    }
    conf = render_keepalived(web, pool, "x")
    six = conf[conf.index("virtual_server 2001:db8:64::80 80") :]
    assert six.count("real_server fd00:61:0:") == 2
    assert "real_server 10." not in six
    done = _keepalived_check(keepalived, tmp_path / "k6.conf", conf)
    assert done.returncode == 0, done.stdout + done.stderr
