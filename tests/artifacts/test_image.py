"""The LB image as the cluster runs it: every container command of the compiled Deployment and
the node agent's DaemonSet, and each exec probe and preStop hook, started inside the image's
root filesystem (read-only, as readOnlyRootFilesystem says) as the container's user, in a
network namespace of the test's own. exabgp and the hook also run there for real in the
testbed (tests/integration/test_testbed.py). This kernel has no IPVS: setup and keepalived get
as far as a kernel without it lets them, and say so."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lbgen.compiler import compile_file
from lbgen.contract import AGENT_PORT
from lbgen.testbed.host.containers import image_script, write_configmaps
from lbgen.testbed.model.pods import Container, agent_pod_spec, pod_spec
from lbgen.testbed.standins.apiserver import served_apart
from tests.conftest import ROOT
from tests.support.waiting import wait_for

pytestmark = pytest.mark.artifacts

FACTS = {"POD_IP": "172.16.4.10", "NODE_IP": "10.0.0.104", "NODE_NAME": "node4"}


@pytest.fixture(scope="module")
def tree() -> dict[str, str]:
    result = compile_file(ROOT / "examples/paper.yaml", "examples/paper.yaml")
    assert result.tree is not None
    return result.tree


@pytest.fixture
def pod(tree: dict[str, str], tmp_path: Path) -> dict[str, Path]:
    """The pod's volumes: the ConfigMap's files and the emptyDir, as the kubelet lays them."""
    spec = pod_spec(tree, "web1")
    volumes = write_configmaps(tree, spec.configmaps, tmp_path)
    for volume in spec.empty_dirs:
        (tmp_path / volume).mkdir()
        (tmp_path / volume).chmod(0o1777)
        volumes[volume] = tmp_path / volume
    return volumes


def _container(tree: dict[str, str], name: str) -> Container:
    return next(c for c in pod_spec(tree, "web1").containers if c.name == name)


def _argv(
    lb_image: Path,
    netns: str,
    container: Container,
    volumes: dict[str, Path],
    *,
    command: tuple[str, ...] | None = None,
    env: dict[str, str] | None = None,
) -> list[str]:
    binds = [(str(volumes[volume]), path) for volume, path in container.mounts]
    wanted = {**FACTS, **(env or {})}
    script = image_script(
        str(lb_image), binds, command or container.command, wanted, container.user
    )
    unshare = ("unshare", "--mount", "--propagation", "private", "sh", "-c", script)
    return ["ip", "netns", "exec", netns, *unshare]


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)


def test_setup_reads_its_config_and_refuses_a_kernel_without_ipvs(
    lb_image: Path, netns: str, tree: dict[str, str], pod: dict[str, Path]
) -> None:
    done = _run(_argv(lb_image, netns, _container(tree, "setup"), pod))
    assert done.returncode == 2, done.stderr
    assert "the LB pod's sysctls are not set" in done.stderr
    assert "net.ipv4.vs.conntrack" in done.stderr
    assert "Traceback" not in done.stderr


def test_keepalived_parses_its_starting_config_in_the_image(
    lb_image: Path, netns: str, tree: dict[str, str], pod: dict[str, Path]
) -> None:
    (pod["run"] / "keepalived.conf").write_text(tree["cluster/services/web1/keepalived.conf"])
    keepalived = _container(tree, "keepalived")
    check = _run(
        _argv(
            lb_image,
            netns,
            keepalived,
            pod,
            command=("keepalived", "-t", "-e", "-f", "/run/lbgen/keepalived.conf"),
        )
    )
    assert check.returncode == 0, check.stdout + check.stderr
    # the container's own command: keepalived starts, reads the config, then needs IPVS
    done = _run(["timeout", "20", *_argv(lb_image, netns, keepalived, pod)])
    said = done.stdout + done.stderr
    assert "Starting Keepalived v2.2.7" in said
    assert "/run/lbgen/keepalived.conf" in said
    drain = _run(
        _argv(lb_image, netns, keepalived, pod, command=("lbgen", "pod", "drain", "--seconds", "0"))
    )
    assert drain.returncode == 0, drain.stderr


def test_exabgp_starts_from_the_image_and_its_hooks_answer(
    lb_image: Path, netns: str, tree: dict[str, str], pod: dict[str, Path]
) -> None:
    exabgp = _container(tree, "exabgp")
    process = subprocess.Popen(
        _argv(lb_image, netns, exabgp, pod), stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        wait_for((pod["run"] / "exabgp.pid").exists, what="exabgp.pid")
        conf = (pod["run"] / "exabgp.conf").read_text()
        assert "--route 10.1.1.0/24 10.0.0.104;" in conf
        hooks = dict(exabgp.probes)
        wait_for(
            lambda: (
                _run(_argv(lb_image, netns, exabgp, pod, command=hooks["livenessProbe"])).returncode
                == 0
            ),
            what="alive",
        )
        ready = _run(_argv(lb_image, netns, exabgp, pod, command=hooks["readinessProbe"]))
        assert ready.returncode == 1
        assert "no BGP session with any reflector is established" in ready.stderr
        withdrawn = _run(_argv(lb_image, netns, exabgp, pod, command=hooks["preStop"]))
        assert withdrawn.returncode == 0, withdrawn.stderr
        assert process.wait(timeout=20) is not None
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()


def test_the_node_agent_routes_its_nodes_lb_pods_from_the_image(
    lb_image: Path, netns: str, tree: dict[str, str], tmp_path: Path
) -> None:
    pods = [
        {
            "kind": "Pod",
            "metadata": {
                "name": "lb-web1-abc",
                "namespace": "lbgen-system",
                "labels": {
                    "lbgen.io/fabric": "paper",
                    "app.kubernetes.io/component": "load-balancer",
                    "lbgen.io/service": "web1",
                },
            },
            "spec": {"nodeName": "node4"},
            "status": {"phase": "Running", "podIP": "172.16.4.10"},
        }
    ]
    for change in (
        ("link", "add", "cni0", "type", "veth", "peer", "name", "cni0-peer"),
        ("addr", "add", "172.16.4.1/24", "dev", "cni0"),
        ("link", "set", "cni0", "up"),
        ("addr", "add", f"{FACTS['NODE_IP']}/32", "dev", "lo"),  # the node's own address
    ):
        subprocess.run(["ip", "-n", netns, *change], check=True)
    agent = agent_pod_spec(tree)
    (container,) = agent.containers
    volumes = write_configmaps(tree, agent.configmaps, tmp_path)
    with served_apart({"objects": pods, "services": []}, netns=netns) as url:
        argv = _argv(lb_image, netns, container, volumes, env={"LBGEN_AGENT_API_SERVER": url})
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for(
                lambda: "10.1.1.0/24 via 172.16.4.10" in _routes(netns),
                timeout=30,
                what="the route",
            )
            # its probes, as the kubelet asks them on the node's address
            probe = "import urllib.request as u; print(u.urlopen(sys.argv[1]).status)"
            answer = subprocess.run(
                [
                    *("ip", "netns", "exec", netns, sys.executable, "-c", f"import sys; {probe}"),
                    f"http://{FACTS['NODE_IP']}:{AGENT_PORT}/readyz",
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            assert answer.stdout.strip() == "200"
        finally:
            process.kill()
            process.wait()


def _routes(netns: str) -> str:
    return subprocess.run(
        ["ip", "-n", netns, "route", "show", "proto", "249"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
