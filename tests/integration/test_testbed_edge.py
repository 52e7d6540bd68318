"""`lbgen testbed` as operators drive it, on examples/edge.yaml: two routers, two reflectors, a
4-byte AS, a /32 service with UDP and TCP ports on selected nodes, a two-port service on pinned
nodes. `up` returns once every LB pod is ready by its own probes; `check` reads every router;
`status` says how to reach each VIP from the client behind each router; `down` is quick."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from ipaddress import IPv4Address
from pathlib import Path

import pytest

from lbgen import cli
from lbgen.compiler import compile_file
from lbgen.testbed import processes
from lbgen.testbed.run import Testbed
from tests.conftest import ROOT, require_root, require_tool
from tests.hookrig import wait_for

pytestmark = pytest.mark.daemons

EDGE = ROOT / "examples/edge.yaml"


def _bed(work: Path, rootfs: Path) -> Testbed:
    result = compile_file(EDGE, "examples/edge.yaml")
    assert result.plan is not None
    assert result.tree is not None
    # the prefix `lbgen testbed` gives this fabric
    return Testbed(result.plan, result.tree, work, "lbt-edge-", rootfs=rootfs)


@pytest.fixture(scope="module")
def edge(lb_image: Path) -> Iterator[tuple[Path, list[str]]]:
    require_root("the testbed (network namespaces)")
    for tool in ("gobgpd", "exabgp", "vtysh"):
        require_tool(tool)
    work = Path(tempfile.mkdtemp(prefix="lbgen-edge-"))
    args = [str(EDGE), "--workdir", str(work), "--rootfs", str(lb_image)]
    try:
        assert cli.main(["testbed", "up", *args, "--timeout", "90"]) == 0
        yield work, args
    finally:
        cli.main(["testbed", "down", *args])
        left = subprocess.run(
            ["ip", "netns", "list"], capture_output=True, text=True, check=True
        ).stdout
        assert "lbt-edge-" not in left
        shutil.rmtree(work, ignore_errors=True)


def _a(*hosts: int) -> set[IPv4Address]:
    return {IPv4Address(f"10.20.0.{h}") for h in hosts}


def test_up_returned_with_every_pool_filled_and_every_router_converged(
    edge: tuple[Path, list[str]], lb_image: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    work, _ = edge
    bed = _bed(work, lb_image)
    for lb in bed.lbs:
        conf = (work / lb.box.netns / "run/keepalived.conf").read_text()
        assert "real_server" in conf, lb.box.name
        assert bed.lb_problems(lb.box.name) == []
    wanted = {"dns": _a(11, 12, 13), "api": _a(14, 15)}
    assert bed.nexthops() == {"edge-a": wanted, "edge-b": wanted}
    capsys.readouterr()


def test_check_reads_every_router_and_fails_when_the_second_loses_its_routes(
    edge: tuple[Path, list[str]], lb_image: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    work, args = edge
    bed = _bed(work, lb_image)
    capsys.readouterr()
    assert cli.main(["testbed", "check", *args]) == 0
    bed.set_router_link("edge-b", up=False)
    try:
        wait_for(lambda: not bed.router_nexthops("edge-b")["dns"], timeout=30, what="edge-b's loss")
        assert cli.main(["testbed", "check", *args]) == 1
        said = capsys.readouterr().out
        assert "router edge-a:\n  api: ok" in said
        assert "router edge-b:\n  api: MISMATCH  next hops -" in said
    finally:
        bed.set_router_link("edge-b", up=True)
    wait_for(bed.converged, timeout=60, what="edge-b's recovery")
    assert cli.main(["testbed", "check", *args]) == 0


def test_status_says_how_to_reach_each_vip_from_behind_each_router(
    edge: tuple[Path, list[str]], lb_image: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    work, args = edge
    capsys.readouterr()
    assert cli.main(["testbed", "status", *args]) == 0
    said = capsys.readouterr().out
    for router in ("edge-a", "edge-b"):
        assert f"from the client behind router {router}:" in said
        assert f"ip netns exec lbt-edge-c-{router} curl -s http://203.0.113.1:443/" in said
        assert f"ip netns exec lbt-edge-c-{router} nc -u 198.51.100.53 53" in said
    bed = _bed(work, lb_image)
    for router in ("edge-a", "edge-b"):
        answers = bed.ask("203.0.113.1", 80, 10, router=router)
        assert {a.split()[1] for a in answers} <= {"lb=api@n4", "lb=api@n5"}, answers
        assert bed.ask("198.51.100.53", 53, 3, router=router)


def test_down_ends_every_process_it_started_and_every_namespace(lb_image: Path) -> None:
    """On a fresh testbed of the paper (the edge fixture's namespaces would clash): nothing
    it started outlives down (how long down takes is measured by bench.convergence)."""
    result = compile_file(ROOT / "examples/paper.yaml", "examples/paper.yaml")
    assert result.plan is not None
    assert result.tree is not None
    work = Path(tempfile.mkdtemp(prefix="lbgen-down-"))
    bed = Testbed(result.plan, result.tree, work, "lbtdown-", rootfs=lb_image, detached=True)
    bed.up()
    try:
        wait_for(bed.converged, timeout=60, what="convergence")
        started = bed.processes()
    finally:
        bed.down()
        shutil.rmtree(work, ignore_errors=True)
    assert len(started) >= 20
    alive = [n for n, pid in started.items() if processes.running(pid)]
    assert alive == []
    left = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True)
    assert "lbtdown-" not in left.stdout
