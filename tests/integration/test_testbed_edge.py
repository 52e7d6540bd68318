"""`lbgen testbed` as operators drive it, on examples/edge.yaml: two routers, two FRR reflectors,
every session authenticated (TCP-MD5) and GTSM towards edge-a, a 4-byte AS, a /32 service with
UDP and TCP ports on selected nodes, a two-port service on pinned nodes. `up` returns once every
LB pod is ready by its own probes; `check` reads every router; `status` says how to reach each VIP
from the client behind each router; `down` is quick. A speaker without the password gets no
session; one with it still gets only what the FRR reflector's import policy grants."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest

from lbgen import cli
from lbgen.compiler import compile_file
from lbgen.testbed.bed import Testbed
from lbgen.testbed.host import processes, secrets
from tests.conftest import ROOT, require_root, require_tool
from tests.support.rogue import rogue_speaker, router_paths, vtysh_json
from tests.support.waiting import wait_for

pytestmark = pytest.mark.daemons

EDGE = ROOT / "examples/edge.yaml"


def _bed(work: Path, rootfs: Path) -> Testbed:
    result = compile_file(EDGE, "examples/edge.yaml")
    assert result.plan is not None
    assert result.tree is not None
    # the prefix `lbgen testbed` gives this fabric; what it starts outlives it, as the CLI's
    return Testbed(result.plan, result.tree, work, "lbt-edge-", rootfs=rootfs, detached=True)


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
        assert bed.see.lb_problems(lb.box.name) == []
    wanted = {"dns": _a(11, 12, 13), "api": _a(14, 15)}
    assert bed.see.nexthops() == {"edge-a": wanted, "edge-b": wanted}
    capsys.readouterr()


def test_check_reads_every_router_and_fails_when_the_second_loses_its_routes(
    edge: tuple[Path, list[str]], lb_image: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    work, args = edge
    bed = _bed(work, lb_image)
    capsys.readouterr()
    assert cli.main(["testbed", "check", *args]) == 0
    bed.faults.set_router_link("edge-b", up=False)
    try:
        wait_for(
            lambda: not bed.see.router_nexthops("edge-b")["dns"], timeout=30, what="edge-b's loss"
        )
        assert cli.main(["testbed", "check", *args]) == 1
        said = capsys.readouterr().out
        assert "router edge-a:\n  api: ok" in said
        assert "router edge-b:\n  api: MISMATCH  next hops -" in said
    finally:
        bed.faults.set_router_link("edge-b", up=True)
    wait_for(bed.see.converged, timeout=60, what="edge-b's recovery")
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
        answers = bed.see.ask("203.0.113.1", 80, 10, router=router)
        assert {a.split()[1] for a in answers} <= {"lb=api@n4", "lb=api@n5"}, answers
        dns = bed.see.ask("198.51.100.53", 53, 3, router=router)
        assert {a.split()[1] for a in dns} <= {"lb=dns@n1", "lb=dns@n2", "lb=dns@n3"}, dns


def test_the_ebgp_router_gets_every_lbs_path_with_its_node_as_next_hop(
    edge: tuple[Path, list[str]], lb_image: Path
) -> None:
    """edge-b is in AS 4200000200: over eBGP the reflectors keep each LB's node as next hop
    and send every path (add-paths), each with the fabric's AS as its whole AS path, and the
    router spreads over all of them (maximum-paths), as the iBGP edge-a does; both follow an
    LB that stops and comes back."""
    work, _ = edge
    bed = _bed(work, lb_image)
    # 3 LBs, from each of 2 reflectors (a session cut by an earlier test may still be coming back)
    wait_for(
        lambda: len(router_paths(bed, "198.51.100.53/32", router=1)) == 6,
        timeout=30,
        what="every path at edge-b",
    )
    paths = router_paths(bed, "198.51.100.53/32", router=1)
    assert {p["aspath"]["string"] for p in paths} == {"4200000100"}
    assert {h["ip"] for p in paths for h in p["nexthops"]} == {str(a) for a in _a(11, 12, 13)}
    assert bed.see.router_nexthops("edge-b") == bed.see.router_nexthops("edge-a")
    bed.faults.stop_lb("dns@n2")
    try:
        for router in ("edge-a", "edge-b"):
            wait_for(
                lambda r=router: bed.see.router_nexthops(r)["dns"] == _a(11, 13),  # type: ignore[misc]
                timeout=30,
                what=f"{router} to drop dns@n2",
            )
    finally:
        bed.workloads.start_lb("dns@n2")
    wait_for(bed.see.converged, timeout=60, what="dns@n2 back on both routers")


def _reflector(bed: Testbed, command: str) -> Any:
    return vtysh_json(bed, bed.layout.reflectors[0].netns, command)


def _lb_password(work: Path) -> str:
    return secrets.secret_file(work, "lbgen-bgp", "rr-a").read_text()


def _established(bed: Testbed, address: str) -> bool:
    peer = _reflector(bed, f"show bgp neighbors {address} json").get(address, {})
    return bool(peer.get("bgpState") == "Established")


@pytest.mark.parametrize("password", [None, "not-the-password"], ids=["none", "wrong"])
def test_a_speaker_without_the_password_gets_no_session(
    edge: tuple[Path, list[str]], lb_image: Path, tmp_path: Path, password: str | None
) -> None:
    """TCP-MD5 on the reflector's listen range: the kernel drops the rogue's SYNs, so it never
    gets as far as an OPEN, however long it tries (exabgp retries every few seconds)."""
    work, _ = edge
    bed = _bed(work, lb_image)
    route = "198.51.100.53/32 next-hop 10.20.0.11 local-preference 200"
    with rogue_speaker(bed, [route], tmp_path, "n1", password=password) as address:
        time.sleep(8)
        assert not _established(bed, address)
        dynamic = _reflector(bed, "show bgp summary json")["ipv4Unicast"]["peers"]
        assert address not in dynamic
        assert {p["peer"]["peerId"] for p in router_paths(bed, "198.51.100.53/32")} <= {
            "10.20.0.3",
            "10.20.0.4",
        }
    assert bed.see.converged()


@pytest.mark.parametrize(
    ("route", "accepted"),
    [
        (
            "198.51.100.53/32 next-hop 10.20.0.11 local-preference 200 med 0 community [ 65000:1 ]",
            True,
        ),
        ("198.51.100.53/32 next-hop 10.20.0.14", False),
        ("203.0.113.0/28 next-hop 10.20.0.11", False),
        ("198.51.100.53/32 next-hop 10.20.0.11 as-path [ 64999 ]", False),
        ("0.0.0.0/0 next-hop 10.20.0.11", False),
    ],
    ids=[
        "an-lb-nodes-prefix-with-winning-attributes",
        "via-a-node-that-runs-no-lb-of-it",
        "another-services-prefix",
        "non-empty-as-path",
        "default-route",
    ],
)
def test_with_the_password_the_frr_reflector_grants_only_what_the_plan_does(
    edge: tuple[Path, list[str]], lb_image: Path, tmp_path: Path, route: str, *, accepted: bool
) -> None:
    """The control of the test above (the right password opens a session), and the FRR
    reflector's import policy: exact prefixes via the nodes that may run their LBs, empty AS
    path, LOCAL_PREF, MED and communities reset; the routers' multipath keeps every LB."""
    work, _ = edge
    bed = _bed(work, lb_image)
    before = bed.see.nexthops()
    prefix = route.split(maxsplit=1)[0]
    with rogue_speaker(bed, [route], tmp_path, "n1", password=_lb_password(work)) as address:
        wait_for(lambda: _established(bed, address), timeout=30, what="the rogue's session")
        wait_for(
            lambda: (
                _reflector(bed, f"show bgp neighbors {address} json")[address]["messageStats"][
                    "updatesRecv"
                ]
                >= 1
            ),
            timeout=30,
            what="the rogue's update",
        )
        time.sleep(1.5)
        paths = _reflector(bed, f"show bgp ipv4 unicast {prefix} json").get("paths", [])
        assert (address in {p["peer"]["peerId"] for p in paths}) is accepted, paths
        assert bed.see.nexthops() == before
        shown = router_paths(bed, "198.51.100.53/32")
        assert {p.get("locPrf") for p in shown} == {100}, shown
        assert not any("community" in p for p in shown), shown


def test_ten_thousand_junk_prefixes_are_refused_unstored(
    edge: tuple[Path, list[str]], lb_image: Path, tmp_path: Path
) -> None:
    """Unlike gobgpd, whose prefix limit counts what arrives and ends the session, FRR counts
    only what its import policy accepts: junk from a speaker with the password is refused and
    not stored (no soft-reconfiguration), and the limit still ends a session that gets a
    second accepted prefix."""
    work, _ = edge
    bed = _bed(work, lb_image)
    before = bed.see.nexthops()
    junk = [f"100.{100 + i // 256}.{i % 256}.0/24 next-hop 10.20.0.11" for i in range(10000)]
    with rogue_speaker(bed, junk, tmp_path, "n1", password=_lb_password(work)) as address:
        wait_for(lambda: _established(bed, address), timeout=30, what="the rogue's session")
        wait_for(lambda: _updates(bed, address) >= 1, timeout=30, what="the rogue's updates")
        time.sleep(2)
        peer = _reflector(bed, f"show bgp neighbors {address} json")[address]
        assert peer["addressFamilyInfo"]["ipv4Unicast"]["acceptedPrefixCounter"] == 0
        table = _reflector(bed, "show bgp ipv4 unicast json")["routes"]
        assert sorted(table) == ["198.51.100.53/32", "203.0.113.0/28"]
        assert bed.see.nexthops() == before


def _updates(bed: Testbed, address: str) -> int:
    peer = _reflector(bed, f"show bgp neighbors {address} json").get(address, {})
    return int(peer.get("messageStats", {}).get("updatesRecv", 0))


def test_out_holds_no_password_and_only_the_boxes_and_pods_get_them(
    edge: tuple[Path, list[str]], lb_image: Path
) -> None:
    """The passwords the testbed laid (as an operator would: files on the boxes, a Secret) are
    in the configs the daemons run and nowhere in what lbgen compiled."""
    work, _ = edge
    bed = _bed(work, lb_image)
    laid = {p.read_text() for p in (work / secrets.FOLDER).rglob("*") if p.is_file()}
    assert len(laid) == 3  # one per file the boxes name: edge-a, edge-b, lbs (both reflectors)
    compiled = [
        *bed.tree.values(),
        *(p.read_text() for p in (ROOT / "out/edge").rglob("*") if p.is_file()),
    ]
    assert not [pw for pw in laid if any(pw in text for text in compiled)]
    for box in (*bed.layout.routers, *bed.layout.reflectors):
        conf = work / box.netns / "frr.conf"
        assert conf.stat().st_mode & 0o777 == 0o640
        assert sum(pw in conf.read_text() for pw in laid) >= 1, box.name
    for lb in bed.lbs:
        conf = work / lb.box.netns / "run/exabgp.conf"
        assert conf.stat().st_mode & 0o777 == 0o600
        assert conf.read_text().count("md5-password") == 2  # one per reflector


def test_gtsm_holds_the_sessions_with_edge_a_to_one_hop_on_both_ends(
    edge: tuple[Path, list[str]], lb_image: Path
) -> None:
    work, _ = edge
    bed = _bed(work, lb_image)
    for rr in bed.layout.reflectors:
        seen = vtysh_json(bed, rr.netns, "show bgp neighbors 10.20.0.1 json")["10.20.0.1"]
        assert seen["bgpState"] == "Established"
        assert seen.get("internalBgpNbrMaxHopsAway") == 1, rr.name
    router = vtysh_json(bed, bed.layout.routers[0].netns, "show bgp neighbors json")
    assert {a: n.get("internalBgpNbrMaxHopsAway") for a, n in router.items()} == {
        "10.20.0.3": 1,
        "10.20.0.4": 1,
    }


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
        wait_for(bed.see.converged, timeout=60, what="convergence")
        started = bed.processes()
    finally:
        bed.down()
        shutil.rmtree(work, ignore_errors=True)
    assert len(started) >= 20
    alive = [n for n, pid in started.items() if processes.running(pid)]
    assert alive == []
    left = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True)
    assert "lbtdown-" not in left.stdout
