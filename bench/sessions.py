"""The fabric at scale: a gobgpd and an FRR reflector, each with a session per LB of 1,000
services (bench.fabric's replicas 2–4: 3,000 LBs), and an FRR router taking every path from
both (6,000), all on their compiled configs. The LB pods are stood in for by one exabgp with two
sessions per LB (one to each reflector, as each pod's exabgp has), each from the LB's own
address in its node's pod subnet, with its own router id, announcing its service's prefix with
its node as next hop.

Not BIRD: BIRD 2.0.12 (Debian's) locks a BGP neighbour by its address, port and interface, not
the local address, so its sessions to one reflector come up one at a time: the second of 3,000
stays Idle for good (newer BIRD adds the local address to the lock).

Run as root: .venv/bin/python -m bench.sessions [--services N] [--nodes N]   (prints; asserts
nothing). Prints the time from exabgp's start until every session is up at each reflector and
until the router's FIB holds every LB as a next hop; each daemon's peak RSS and CPU time; and,
under that load, how long one node's LBs take to leave the router's FIB once they withdraw
their routes (what a pod's announcer does when its datapath fails)."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from ipaddress import IPv4Address
from pathlib import Path

from bench.daemons import GOBGP_PORT, frr_boot, gobgp, peak_rss_mb, stop, vtysh, wait
from bench.fabric import scale_spec
from lbgen.compiler import compile_text
from lbgen.plan import Plan
from lbgen.testbed.host.netns import add_bridge, add_netns, attach, delete_netns, inside
from lbgen.testbed.host.processes import spawn
from lbgen.testbed.model.shapes import Box

SPEAKERS = IPv4Address("10.0.255.250")  # the speakers' own address on the node network
POLL = 0.5


# exabgp's control process: announces every LB's route, then passes on what the bench writes
# to its FIFO (a node's withdrawals)
CONTROL = """import sys
sys.stdout.write(open(sys.argv[1]).read())
sys.stdout.flush()
with open(sys.argv[2]) as fifo:
    for line in fifo:
        sys.stdout.write(line)
        sys.stdout.flush()
sys.stdin.read()
"""


def speaker(plan: Plan, control: list[str]) -> tuple[str, str, dict[str, list[str]], list[str]]:
    """exabgp's config (a neighbor per LB and reflector, each from the LB's own address in its
    node's pod subnet, with its own router id), the announcements its control process sends,
    per node the withdrawals of its LBs' routes, and every LB's address."""
    nodes = {n.name: n for n in plan.nodes}
    process = " ".join(control)
    lines = [f"process control {{\n  run {process};\n  encoder text;\n}}"]
    announce: list[str] = []
    withdraw: dict[str, list[str]] = {}
    on_node: Counter[str] = Counter()  # LB pods on each node so far: each gets its own address
    addresses: list[str] = []
    for service in plan.services:
        for name in service.placement:
            node = nodes[name]
            assert node.pod_subnet is not None
            pod = node.pod_subnet.network_address + 10 + on_node[name]
            on_node[name] += 1
            addresses.append(str(pod))
            route = f"route {service.prefix} next-hop {node.address}"
            for rr in plan.reflectors:
                lines.append(
                    f"neighbor {rr.address} {{\n  router-id {pod};\n  local-address {pod};\n"
                    f"  local-as {plan.asn};\n  peer-as {plan.asn};\n"
                    f"  hold-time {plan.timers.hold_time};\n"
                    "  family { ipv4 unicast; }\n  api { processes [ control ]; }\n}"
                )
                selector = f"neighbor {rr.address} local-ip {pod}"
                announce.append(f"{selector} announce {route}\n")
                withdraw.setdefault(name, []).append(f"{selector} withdraw {route}\n")
    return "\n".join(lines) + "\n", "".join(announce), withdraw, addresses


@contextlib.contextmanager
def fabric(prefix: str, boxes: list[Box]) -> Iterator[None]:
    lan = f"{prefix}-lan"
    made = [lan]
    try:
        add_netns(lan)
        add_bridge(lan, "br0")
        for box in boxes:
            add_netns(box.netns)
            made.append(box.netns)
            attach(lan, f"v-{box.name}"[:15], box, bridge="br0")
        yield
    finally:
        for name in reversed(made):
            delete_netns(name)


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _frr_up(folder: Path) -> int:
    shown = vtysh(folder, "show bgp ipv4 unicast summary json")
    if not shown:
        return 0
    peers = json.loads(shown).get("peers", {})
    return sum(1 for p in peers.values() if p.get("state") == "Established")


def _fib(router: str) -> Counter[str]:
    """Next hops of the router's BGP routes, per next hop."""
    shown = subprocess.run(
        ["ip", "-n", router, "-j", "route", "show", "proto", "bgp"],
        capture_output=True,
        text=True,
        check=False,
    )
    hops: Counter[str] = Counter()
    for route in json.loads(shown.stdout or "[]"):
        for hop in route.get("nexthops", [route]):
            if "gateway" in hop:
                hops[hop["gateway"]] += 1
    return hops


def main() -> None:  # noqa: PLR0915 -- one scenario, told in order
    # ended by a signal, still end the daemons and delete the namespaces (the finally blocks)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser()
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds to wait")
    args = parser.parse_args()
    result = compile_text(scale_spec(args.services, args.nodes, ipv6=False), "scale.yaml")
    assert result.plan is not None, result.diagnostics[:3]
    assert result.tree is not None
    plan, tree = result.plan, result.tree
    lbs = sum(len(s.placement) for s in plan.services)
    # the router's FIB: a next hop per service and node (two LBs on one node are one next hop)
    hops = sum(len(set(s.placement)) for s in plan.services)
    prefix = f"lbgenss{os.getpid()}"
    net = plan.node_network
    assert net is not None
    to_pods = ((str(plan.pod_network), str(SPEAKERS)),)
    boxes = {
        "router": Box("router", f"{prefix}-router", IPv4Address("10.0.0.1"), net, ()),
        "rr-go": Box("rr-go", f"{prefix}-rr-go", IPv4Address("10.0.0.3"), net, to_pods),
        "rr-frr": Box("rr-frr", f"{prefix}-rr-frr", IPv4Address("10.0.0.4"), net, to_pods),
        "lbs": Box("lbs", f"{prefix}-lbs", SPEAKERS, net, ()),
    }
    children: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp, fabric(prefix, list(boxes.values())):
        work = Path(tmp)
        work.chmod(0o755)
        lbs_ns = boxes["lbs"].netns
        folders = {}
        for name, file in (("router", "routers/edge-a"), ("rr-frr", "reflectors/rr-frr")):
            folder = work / name
            folder.mkdir()
            shutil.chown(folder, "frr", "frr")
            (folder / "frr.conf").write_text(tree[f"{file}/frr.conf"])
            folders[name] = folder
        gobgpd_conf = work / "gobgpd.yaml"
        gobgpd_conf.write_text(tree["reflectors/rr-go/gobgpd.yaml"])
        gobgpd = ["gobgpd", "-t", "yaml", "-f", str(gobgpd_conf)]
        gobgpd += ["--api-hosts", f"127.0.0.1:{GOBGP_PORT}"]
        try:
            for name, folder in folders.items():
                daemons = ["zebra", "bgpd", *(["staticd"] if name == "router" else [])]
                frr_boot(boxes[name].netns, folder, daemons, children)
            children.append(spawn(inside(boxes["rr-go"].netns, *gobgpd), work / "gobgpd.log"))
            go_ns = boxes["rr-go"].netns
            wait(lambda: bool(gobgp(go_ns, "global")), "gobgpd's API")
            wait(lambda: _frr_up(folders["router"]) == 2, "the router's reflector sessions")
            fifo = work / "control.fifo"
            os.mkfifo(fifo)
            control = [sys.executable, str(work / "control.py"), str(work / "announce"), str(fifo)]
            (work / "control.py").write_text(CONTROL)
            conf, announce, withdraw, pods = speaker(plan, control)
            (work / "announce").write_text(announce)
            (work / "exabgp.conf").write_text(conf)
            # every LB pod's address, on the speakers' loopback (no dummy links on this kernel)
            batch = "".join(f"addr add {a}/32 dev lo\n" for a in pods)
            subprocess.run(["ip", "-n", lbs_ns, "-batch", "-"], input=batch, text=True, check=True)
            env = {
                "exabgp.daemon.user": "root",
                "exabgp.daemon.daemonize": "false",
                "exabgp.daemon.pid": "",
                "exabgp.log.destination": "stdout",
                "exabgp.api.cli": "false",
            }
            start = time.monotonic()
            exabgp = spawn(
                inside(lbs_ns, "exabgp", str(work / "exabgp.conf")), work / "exabgp.log", env
            )
            children.append(exabgp)
            marks: dict[str, float] = {}
            counts = {"rr-go": 0, "rr-frr": 0, "fib": 0}
            while len(marks) < len(counts) and time.monotonic() - start < args.timeout:
                counts["rr-go"] = gobgp(go_ns, "neighbor").count("Establ")
                counts["rr-frr"] = _frr_up(folders["rr-frr"])
                counts["fib"] = sum(_fib(boxes["router"].netns).values())
                for what, count in counts.items():
                    if what not in marks and count >= (hops if what == "fib" else lbs):
                        marks[what] = time.monotonic() - start
                time.sleep(POLL)
            where = {box.netns: name for name, box in boxes.items()}
            table = [(_label(c, where), peak_rss_mb(c.pid), _cpu_s(c.pid)) for c in children]
            leaving = max(withdraw, key=lambda n: len(withdraw[n]))
            address = str(next(n.address for n in plan.nodes if n.name == leaving))
            before = _fib(boxes["router"].netns)[address]
            left = None
            if "fib" in marks:
                with fifo.open("w") as commands:
                    commands.write("".join(withdraw[leaving]))
                left = wait(
                    lambda: _fib(boxes["router"].netns)[address] == 0, "the node's LBs to go"
                )
        finally:
            stop(children)

    def reached(what: str) -> str:
        if what in marks:
            return f"{marks[what]:.1f} s"
        wanted = hops if what == "fib" else lbs
        return f"not within {args.timeout:.0f} s ({counts[what]} of {wanted})"

    print(f"{args.services} services, {lbs} LBs on {args.nodes} nodes: {2 * lbs} LB sessions")
    print(f"  every LB session up at rr-go (gobgpd): {reached('rr-go')}")
    print(f"  every LB session up at rr-frr (FRR):   {reached('rr-frr')}")
    print(f"  the router's FIB holds every LB's node: {reached('fib')}")
    if left is not None:
        print(
            f"  {leaving}'s {before} LBs withdrawn, out of the router's FIB: {left:.2f} s "
            "(polled every 50 ms)"
        )
    print(f"  {'daemon':<24} {'peak RSS MB':>11} {'CPU s':>7}")
    for label, rss, cpu in table:
        print(f"  {label:<24} {rss:>11.0f} {cpu:>7.1f}")


def _label(child: subprocess.Popen[bytes], where: dict[str, str]) -> str:
    """The daemon and its box, from its command line (ip netns exec NETNS PROGRAM ...)."""
    argv = [str(part) for part in child.args]  # type: ignore[union-attr]
    return f"{Path(argv[4]).name} ({where[argv[3]]})"


if __name__ == "__main__":
    main()
