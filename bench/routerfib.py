"""How fast `lbgen router-fib` follows zebra, and what it costs, on this kernel: in a namespace
of its own, routes made as zebra makes them (a nexthop object per LB node, a group per set of
nodes, each service prefix's route on its group, protocol bgp) stand for zebra's; router-fib
copies them into resilient groups.

Run as root: .venv/bin/python -m bench.routerfib [--prefixes N] [--trials N]
(prints numbers; asserts nothing)
Each latency is from zebra's change (one `ip -batch`) to router-fib's group showing it, polled:
one LB leaving one service's route; every route losing one node (a node down, N routes at
once); and router-fib's start until every group exists. Its CPU is read from /proc."""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from ipaddress import IPv4Network
from pathlib import Path

from lbgen.testbed.host.routes import moved, route_choices
from tests.support.fibrig import fib_config

NETNS = f"lbgen-bench-fib-{os.getpid()}"
NODES = [f"10.9.{i // 250}.{i % 250 + 2}" for i in range(8)]
TABLE = fib_config([]).table  # the spec's default
SERIAL = itertools.count(1)  # zebra's group ids, one per change


def ip(*argv: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        ["ip", "-n", NETNS, *argv], input=stdin, capture_output=True, text=True, check=True
    )
    return done.stdout


def zebra(prefixes: list[IPv4Network], hops: list[int]) -> None:
    """Every prefix over the nodes `hops`, as zebra installs it: a new group object, routes
    replaced onto it (ids above any zebra used so far)."""
    gid = 1000 + next(SERIAL)
    group = "/".join(str(10 + h) for h in hops)
    lines = [f"nexthop add id {gid} group {group} proto zebra"]
    lines += [f"route replace {p} nhid {gid} proto bgp" for p in prefixes]
    ip("-batch", "-", stdin="\n".join(lines) + "\n")


def groups(prefix: str | None = None) -> dict[str, set[str]]:
    """Router-fib's table (or its route for one prefix): prefix → its group's gateways."""
    found: dict[str, set[str]] = {}
    shown = subprocess.run(
        [
            "ip",
            "-n",
            NETNS,
            "-j",
            "route",
            "show",
            *([prefix] if prefix else []),
            "table",
            str(TABLE),
        ],
        capture_output=True,
        text=True,
        check=False,  # no such table until router-fib's first route
    )
    for route in json.loads(shown.stdout if shown.returncode == 0 else "[]"):
        found[route["dst"]] = {h["gateway"] for h in route.get("nexthops") or [route]}
    return found


def until(done: Callable[[], bool], timeout: float = 30.0) -> float:
    start = time.monotonic()
    while not done():
        if time.monotonic() - start > timeout:
            raise TimeoutError("router-fib did not follow")
        time.sleep(0.002)
    return time.monotonic() - start


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _one_is(prefix: str, hops: set[str]) -> bool:
    return groups(prefix).get(prefix) == hops


def _all_are(hops: set[str]) -> bool:
    return all(g == hops for g in groups().values())


def flows(prefix: IPv4Network) -> None:
    """The router's choice for 2,000 5-tuples (`ip route get … sport S`) across an LB killed (the
    first of 3: under hash-threshold the costly one) and one added (2 → 3): through router-fib's
    group (marked, as its nftables rule marks a forwarded packet) and through zebra's route."""
    vip, ports = str(prefix.network_address + 1), list(range(20000, 22000))
    for label, mark in (("resilient group", 0x4C42), ("zebra's hash-threshold route", None)):
        shares = []
        for before_hops, after_hops, gone in (
            ([0, 1, 2], [1, 2], NODES[0]),
            ([0, 1], [0, 1, 2], ""),
        ):
            zebra([prefix], before_hops)
            until(partial(_one_is, str(prefix), {NODES[h] for h in before_hops}))
            before = route_choices(NETNS, vip, "10.8.0.2", ports, iif="v9", mark=mark)
            zebra([prefix], after_hops)
            until(partial(_one_is, str(prefix), {NODES[h] for h in after_hops}))
            after = route_choices(NETNS, vip, "10.8.0.2", ports, iif="v9", mark=mark)
            stayed = sum(1 for hop in before.values() if hop != gone)
            shares.append(100 * moved(before, after, gone) / stayed)
        print(
            f"2,000 5-tuples, {label}: 1 of 3 LBs killed moves {shares[0]:.1f} % of the "
            f"survivors' flows; 2 → 3 moves {shares[1]:.1f} %"
        )


def measure(prefixes: list[IPv4Network], trials: int, log: Path, pid: int) -> None:
    """One route changed, then every route at once; router-fib's own timings; its idle CPU."""
    one = [prefixes[0]]
    latencies = []
    for trial in range(trials):
        hops = [0, 2] if trial % 2 == 0 else [0, 1, 2]
        want = {NODES[h] for h in hops}
        zebra(one, hops)
        latencies.append(until(partial(_one_is, str(one[0]), want)))
    latencies.sort()
    print(
        f"one route changed → its group: p50 {statistics.median(latencies) * 1000:.1f} ms, "
        f"max {latencies[-1] * 1000:.1f} ms over {len(latencies)} (polled every 2 ms)"
    )
    down = []
    for trial in range(3):
        hops = [0, 2] if trial % 2 == 0 else [0, 1, 2]
        want = {NODES[h] for h in hops}
        zebra(prefixes, hops)
        down.append(until(partial(_all_are, want), 120))
    print(
        "every route changed at once (a node gone or back) → every group: "
        + ", ".join(f"{t:.2f} s" for t in down)
    )
    took = [json.loads(line).get("seconds") for line in log.open()]
    took = sorted(t for t in took if t is not None)
    print(f"router-fib's reconcile with a change: p50 {statistics.median(took) * 1000:.1f} ms")
    before = cpu_seconds(pid)
    time.sleep(10)
    print(f"router-fib CPU while idle: {(cpu_seconds(pid) - before) / 10 * 100:.1f} %")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefixes", type=int, default=1000)
    parser.add_argument("--trials", type=int, default=40)
    args = parser.parse_args()
    prefixes = [IPv4Network(f"10.{100 + i // 256}.{i % 256}.0/24") for i in range(args.prefixes)]
    work = Path(tempfile.mkdtemp(prefix="lbgen-bench-fib-"))
    config = fib_config(prefixes)
    (work / "router-fib.json").write_text(config.model_dump_json())
    subprocess.run(["ip", "netns", "add", NETNS], check=True)
    fib = None
    try:
        ip("link", "add", "v0", "type", "veth", "peer", "name", "p0")
        ip("link", "set", "v0", "up")
        ip("link", "set", "p0", "up")
        ip("addr", "add", "10.9.0.1/16", "dev", "v0")
        # the clients' side, and 5-tuple hashing (as lbgen's router sysctl.conf sets)
        ip("link", "add", "v9", "type", "veth", "peer", "name", "p9")
        ip("link", "set", "v9", "up")
        ip("link", "set", "p9", "up")
        ip("addr", "add", "10.8.0.1/24", "dev", "v9")
        for key in ("net.ipv4.ip_forward=1", "net.ipv4.fib_multipath_hash_policy=1"):
            subprocess.run(["ip", "netns", "exec", NETNS, "sysctl", "-qw", key], check=True)
        for index, node in enumerate(NODES):
            ip("neigh", "add", node, "lladdr", f"02:00:00:00:00:{index + 2:02x}", "dev", "v0")
            ip("nexthop", "add", "id", str(10 + index), "via", node, "dev", "v0", "proto", "zebra")
        zebra(prefixes, [0, 1, 2])
        argv = [
            sys.executable,
            "-m",
            "lbgen",
            "router-fib",
            "--config",
            str(work / "router-fib.json"),
        ]
        start = time.monotonic()
        with (work / "router-fib.log").open("wb") as log:
            fib = subprocess.Popen(["ip", "netns", "exec", NETNS, *argv], stdout=log, stderr=log)
        until(lambda: len(groups()) == len(prefixes), timeout=120)
        print(f"prefixes: {len(prefixes)}")
        print(f"router-fib start → every group: {time.monotonic() - start:.2f} s")
        flows(prefixes[-1])
        measure(prefixes, args.trials, work / "router-fib.log", fib.pid)
    finally:
        if fib is not None:
            fib.kill()
            fib.wait()
        subprocess.run(["ip", "netns", "del", NETNS], check=False)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
