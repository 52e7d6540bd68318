"""The boxes take it: FRR (zebra + bgpd + staticd) and gobgpd started on the compiled configs of
a big fabric (bench.fabric; 1,000 services × 1,000 nodes unless told), each alone in a network
namespace of its own, then one service added and the change applied to the running daemon.

Run as root: .venv/bin/python -m bench.boxes [--services N] [--nodes N]   (prints; asserts
nothing). Per box: its config's size; the time from the daemons' start to the whole config
held (FRR, started as Debian's frr.service does: `vtysh -b` has sent the config, vtysh answers
with its last route-map entry, and zebra has installed every discard route in the kernel;
gobgpd: its API lists every import statement); the daemons' RSS; the time to apply the
one-service change (FRR: Debian's frr-reload.py, from frr-pythontools; gobgpd: SIGHUP, until
its API shows the new prefix), and the running config afterwards compared with the file."""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from bench.daemons import GOBGP_PORT, frr_boot, gobgp, peak_rss_mb, stop, vtysh, wait
from bench.fabric import scale_spec
from lbgen.compiler import compile_text
from lbgen.testbed.host.netns import add_netns, delete_netns, inside, ip
from lbgen.testbed.host.processes import spawn

FRR_RELOAD = Path("/usr/lib/frr/frr-reload.py")


def _trees(services: int, nodes: int) -> tuple[dict[str, str], dict[str, str], str]:
    """The fabric's tree, and the tree with one service more (unpinned: it joins the group
    of every node), and that service's prefix."""
    text = scale_spec(services, nodes)
    before = compile_text(text, "scale.yaml").tree
    added = "100.127.255.0/28"
    extra = (
        f"    - name: zz-added\n      namespace: apps\n      prefix: {added}\n"
        "      ports: [{name: http, port: 80}]\n      backend: {service: added, port: http}\n"
    )
    after = compile_text(text + extra, "scale.yaml").tree
    assert before is not None
    assert after is not None
    return before, after, added


@contextlib.contextmanager
def _netns(name: str, address: str) -> Iterator[str]:
    add_netns(name)
    try:
        ip("addr", "add", f"{address}/32", "dev", "lo", netns=name)  # no dummy links here
        yield name
    finally:
        delete_netns(name)


def _unreachable(netns: str) -> int:
    found = 0
    for family in ("-4", "-6"):
        shown = subprocess.run(
            ["ip", family, "-n", netns, "route", "show", "type", "unreachable"],
            capture_output=True,
            text=True,
            check=False,
        )
        found += len(shown.stdout.splitlines())
    return found


def frr_box(name: str, conf: str, changed: str, address: str, added: str) -> dict[str, float]:
    discards = len(re.findall(r"^ipv?6? ?route \S+ reject 254$", conf, re.MULTILINE))
    last_entry = [line for line in conf.splitlines() if line.startswith("route-map ")][-2]
    with (
        tempfile.TemporaryDirectory(dir="/tmp") as tmp,
        _netns(f"lbgenbench{os.getpid()}-{name}", address) as netns,
    ):
        folder = Path(tmp)
        folder.chmod(0o755)
        shutil.chown(folder, "frr", "frr")
        (folder / "frr.conf").write_text(conf)
        start = time.monotonic()
        daemons = ["zebra", "bgpd"] + (["staticd"] if discards else [])
        children: list[subprocess.Popen[bytes]] = []
        try:
            frr_boot(netns, folder, daemons, children)
            wait(lambda: last_entry in vtysh(folder, "show running-config"), "config")
            loaded = time.monotonic() - start
            wait(lambda: _unreachable(netns) >= discards, "discard routes")
            installed = time.monotonic() - start
            rss = sum(peak_rss_mb(c.pid) for c in children)
            (folder / "new.conf").write_text(changed)
            start = time.monotonic()
            subprocess.run(
                [
                    "python3", str(FRR_RELOAD), "--reload", "--bindir", "/usr/bin",
                    "--confdir", str(folder), "--rundir", str(folder),
                    "--vty_socket", str(folder), str(folder / "new.conf"),
                ],
                capture_output=True,
                check=True,
            )  # fmt: skip
            wait(lambda: f"permit {added}" in vtysh(folder, "show running-config"), "the prefix")
            if discards:  # a router: and its discard route (a reflector installs no routes)
                wait(lambda: _unreachable(netns) >= discards + 1, "the added discard route")
            reloaded = time.monotonic() - start
            test = subprocess.run(
                [
                    "python3", str(FRR_RELOAD), "--test", "--bindir", "/usr/bin",
                    "--confdir", str(folder), "--rundir", str(folder),
                    "--vty_socket", str(folder), str(folder / "new.conf"),
                ],
                capture_output=True,
                text=True,
                check=False,
            )  # fmt: skip
            left = [line for line in test.stdout.splitlines() if line.startswith(("+", "-"))]
        finally:
            stop(children)
    return {
        "MB": len(conf.encode()) / 1e6,
        "loaded_s": loaded,
        "fib_s": installed,
        "rss_mb": rss,
        "change_s": reloaded,
        "left": float(len(left)),
    }


def gobgp_box(name: str, conf: str, changed: str, address: str, added: str) -> dict[str, float]:
    statements = conf.count("\n  - name: lbs")
    with (
        tempfile.TemporaryDirectory(dir="/tmp") as tmp,
        _netns(f"lbgenbench{os.getpid()}-{name}", address) as netns,
    ):
        path = Path(tmp) / "gobgpd.yaml"
        path.write_text(conf)
        argv = ["gobgpd", "-t", "yaml", "-f", str(path), "--api-hosts", f"127.0.0.1:{GOBGP_PORT}"]
        start = time.monotonic()
        child = spawn(inside(netns, *argv), Path(tmp) / "gobgpd.log")
        try:

            def held() -> bool:
                return gobgp(netns, "policy", "statement").count("StatementName lbs") >= statements

            wait(held, "import statements")
            loaded = time.monotonic() - start
            rss = peak_rss_mb(child.pid)  # `ip netns exec` became gobgpd
            path.write_text(changed)
            start = time.monotonic()
            child.send_signal(signal.SIGHUP)  # gobgpd rereads its file
            wait(lambda: added in gobgp(netns, "policy", "prefix"), "the added prefix")
            reloaded = time.monotonic() - start
        finally:
            stop([child])
    return {
        "MB": len(conf.encode()) / 1e6,
        "loaded_s": loaded,
        "fib_s": float("nan"),
        "rss_mb": rss,
        "change_s": reloaded,
        "left": float("nan"),
    }


def main() -> None:
    # ended by a signal, still end the daemons and delete the namespaces (the finally blocks)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser()
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--nodes", type=int, default=1000)
    args = parser.parse_args()
    before, after, added = _trees(args.services, args.nodes)
    rows = {
        "router edge-a (FRR)": frr_box(
            "router",
            before["routers/edge-a/frr.conf"],
            after["routers/edge-a/frr.conf"],
            "10.0.0.1",
            added,
        ),
        "reflector rr-frr (FRR)": frr_box(
            "rr-frr",
            before["reflectors/rr-frr/frr.conf"],
            after["reflectors/rr-frr/frr.conf"],
            "10.0.0.4",
            added,
        ),
        "reflector rr-go (gobgpd)": gobgp_box(
            "rr-go",
            before["reflectors/rr-go/gobgpd.yaml"],
            after["reflectors/rr-go/gobgpd.yaml"],
            "10.0.0.3",
            added,
        ),
    }
    print(f"{args.services} services × {args.nodes} nodes")
    print(
        f"{'box':<26} {'config MB':>9} {'loaded s':>9} {'FIB s':>7} {'RSS MB':>7} "
        f"{'+1 service s':>12} {'diff left':>9}"
    )
    for name, r in rows.items():
        print(
            f"{name:<26} {r['MB']:>9.2f} {r['loaded_s']:>9.2f} {r['fib_s']:>7.2f} "
            f"{r['rss_mb']:>7.0f} {r['change_s']:>12.2f} {r['left']:>9.0f}"
        )


if __name__ == "__main__":
    main()
