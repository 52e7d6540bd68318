"""Peak memory of every container of the LB pod and the node agent, against the limits lbgen
renders (lbgen.contract.DEFAULT_RESOURCES: peak × ≥ 1.3).

Run as root: .venv/bin/python -m bench.memory [--check]
(prints a table; with --check exits 1 when a default limit is below 1.3 × the measured peak)

A container's peak is the sum of the processes that can run in it at once, each measured
alone: a long-running process by its high-water mark (VmHWM) once it has done its work, a
short one (probes, preStop hooks, `keepalived -t`) by its maximum RSS (getrusage). Everything
talks only to loopback or runs in a network namespace of its own (exabgp, the node agent).

- hook: `lbgen hook` following N endpoints (in slices of 100) from the stand-in API server,
  plus the `keepalived -t` child it runs on the N-server config (10, 1k, 10k endpoints).
- exabgp: `lbgen pod exabgp` (which becomes exabgp), the announcer exabgp runs, plus the
  readiness and liveness probes.
- keepalived: this kernel has no IPVS, so the daemon cannot run here; its two processes
  (parent and checker) each hold the parsed config, so it counts as twice the peak of
  `keepalived -t` on 1k real servers, plus its liveness probe and the drain preStop hook.
- setup: `lbgen pod setup` (it stops at the sysctl check here: no IPVS).
- agent: `lbgen node-agent` routing 200 LB pods of its node, in a namespace of its own."""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from ipaddress import IPv4Address
from pathlib import Path

from bench.hook import addresses, slices
from lbgen.contract import DEFAULT_RESOURCES, EXABGP, HOOK, KEEPALIVED, NODE_AGENT, SETUP
from lbgen.render.keepalived import RealServer, render_keepalived
from lbgen.testbed.standins.apiserver import served_apart
from tests.support.hookrig import paper_pod
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parent.parent
LB_JSON = ROOT / "out/paper/cluster/services/web1/lb.json"
LBGEN = str(Path(sys.executable).with_name("lbgen"))
HEADROOM = 1.3
SIZES = (10, 1000, 10000)
MIB = 1024


def _kib(status: Path, key: str) -> int:
    match = re.search(rf"^{key}:\s+(\d+) kB", status.read_text(), re.MULTILINE)
    return int(match.group(1)) if match else 0


def high_water(pid: int) -> int:
    """A running process's peak RSS so far, in KiB."""
    return _kib(Path(f"/proc/{pid}/status"), "VmHWM")


def peak_of(argv: list[str], env: dict[str, str] | None = None) -> int:
    """Run a short command to its end; its (largest descendant's) peak RSS in KiB."""
    probe = (
        "import resource, subprocess, sys; subprocess.run(sys.argv[1:], capture_output=True); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, *argv],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(env or {})},
        timeout=300,
    )
    return int(done.stdout.strip())


@contextmanager
def namespace(name: str) -> Iterator[str]:
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def hook(size: int) -> dict[str, int]:
    ips = addresses(size)
    with (
        tempfile.TemporaryDirectory() as folder,
        served_apart({"endpointslices": slices(ips, {}), "services": []}) as url,
    ):
        conf = Path(folder) / "keepalived.conf"
        env = {
            **os.environ,
            "LBGEN_HOOK_KEEPALIVED_CONF": str(conf),
            "LBGEN_HOOK_KEEPALIVED_PID": str(Path(folder) / "none.pid"),
            "LBGEN_HOOK_STATUS_INTERVAL_SECONDS": "3600",
        }
        argv = [LBGEN, "hook", "--config", str(LB_JSON), "--api-server", url]
        process = subprocess.Popen(
            [*argv, "--metrics-port", "0"], env=env, stderr=subprocess.DEVNULL
        )
        try:
            wait_for(
                lambda: conf.exists() and conf.read_text().count("real_server") == size,
                timeout=120,
                what=f"{size} real servers",
            )
            time.sleep(1)
            own = high_water(process.pid)
        finally:
            _stop(process)
        check = peak_of([_keepalived(), "-t", "-e", "-f", str(conf)])
    return {"hook": own, "keepalived -t": check}


def _keepalived() -> str:
    return shutil.which("keepalived") or "/usr/sbin/keepalived"


def exabgp() -> dict[str, int]:
    env = {"POD_IP": "172.16.4.10", "NODE_IP": "10.0.0.104"}
    with namespace(f"lbgen-mem-{os.getpid()}") as netns:
        # a private /run, so the pod's /run/lbgen exists without touching the host's
        script = (
            "mount -t tmpfs tmpfs /run && mkdir /run/lbgen && "
            f"exec {LBGEN} pod exabgp --config {LB_JSON}"
        )
        process = subprocess.Popen(
            ["ip", "netns", "exec", netns, "unshare", "--mount", "sh", "-c", script],
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            time.sleep(6)
            # ip netns exec → unshare → sh → exec lbgen → exec exabgp → its process, the
            # announcer: the deepest process, and its parent
            announcer = _deepest(process.pid)
            assert b"announce" in Path(f"/proc/{announcer}/cmdline").read_bytes()
            stat = Path(f"/proc/{announcer}/stat").read_text()
            daemon = high_water(int(stat.rsplit(")", 1)[1].split()[1]))
            announcing = high_water(announcer)
        finally:
            _stop(process)
    ready = peak_of([LBGEN, "pod", "check", "ready", "--config", str(LB_JSON)])
    alive = peak_of([LBGEN, "pod", "check", "alive", "--pidfile", "/nonexistent"])
    return {
        "exabgp": daemon,
        "announcer": announcing,
        "probe ready": ready,
        "probe alive": alive,
    }


def _deepest(pid: int) -> int:
    while True:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        if not children:
            return pid
        pid = int(children[0])


def keepalived() -> dict[str, int]:
    service = paper_pod().service
    servers = tuple(
        RealServer(address=IPv4Address("172.16.0.1") + i, port=8080, weight=1) for i in range(1000)
    )
    pools: dict[tuple[str, str], tuple[RealServer, ...]] = {
        (p.target_port, p.protocol): servers for p in service.ports
    }
    with tempfile.TemporaryDirectory() as folder:
        conf = Path(folder) / "keepalived.conf"
        conf.write_text(render_keepalived(service, pools, "bench"))
        parsed = peak_of([_keepalived(), "-t", "-e", "-f", str(conf)])
    alive = peak_of([LBGEN, "pod", "check", "alive", "--pidfile", "/nonexistent"])
    drain = peak_of([LBGEN, "pod", "drain", "--seconds", "0"])
    return {
        "keepalived (2 × config load)": 2 * parsed,
        "probe alive": alive,
        "preStop drain": drain,
    }


def setup() -> dict[str, int]:
    return {"pod setup": peak_of([LBGEN, "pod", "setup", "--config", str(LB_JSON)])}


def agent() -> dict[str, int]:
    pods = [
        {
            "kind": "Pod",
            "metadata": {
                "name": f"lb-{i}",
                "namespace": "lbgen-system",
                "labels": {
                    "lbgen.io/fabric": "paper",
                    "app.kubernetes.io/component": "load-balancer",
                    "lbgen.io/service": f"svc{i}",
                },
            },
            "spec": {"nodeName": "node4"},
            "status": {"podIP": str(IPv4Address("172.16.4.2") + i), "phase": "Running"},
        }
        for i in range(200)
    ]
    with namespace(f"lbgen-mem-agent-{os.getpid()}") as netns, tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            ["ip", "-n", netns, "link", "add", "pods", "type", "veth", "peer", "name", "pods-peer"],
            check=True,
        )
        subprocess.run(["ip", "-n", netns, "link", "set", "pods", "up"], check=True)
        subprocess.run(
            ["ip", "-n", netns, "addr", "add", "172.16.4.1/22", "dev", "pods"], check=True
        )
        config = Path(tmp) / "node-agent.json"
        config.write_text(_agent_config(len(pods)))
        with served_apart({"objects": pods, "services": []}, netns=netns) as url:
            process = subprocess.Popen(
                [
                    *("ip", "netns", "exec", netns, LBGEN, "node-agent"),
                    *("--config", str(config), "--node", "node4", "--api-server", url),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                wait_for(lambda: _routes(netns) >= 200, timeout=60, what="200 agent routes")
                time.sleep(1)
                own = high_water(_deepest(process.pid))
            finally:
                _stop(process)
    return {"node-agent": own}


def _agent_config(services: int) -> str:
    prefixes = [[f"svc{i}", f"10.{100 + i // 250}.{i % 250}.0/24"] for i in range(services)]
    return json.dumps(
        {
            "header": "bench",
            "source": "bench",
            "fabric": "paper",
            "namespace": "lbgen-system",
            "node_network": "10.0.0.0/16",
            "pod_network": "172.16.0.0/16",
            "prefixes": prefixes,
            "prefixes6": [],
            "node_network6": None,
            "pod_network6": None,
        }
    )


def _routes(netns: str) -> int:
    shown = subprocess.run(
        ["ip", "-n", netns, "-j", "route", "show", "proto", "249"],
        capture_output=True,
        text=True,
        check=False,
    )
    return len(json.loads(shown.stdout or "[]"))


def _mib(kib: int) -> float:
    return kib / MIB


def _limit_mib(quantity: str) -> float:
    number = re.match(r"[0-9.]+", quantity)
    assert number is not None
    scale = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024}
    unit = quantity[number.end() :]
    return float(number.group()) * scale[unit]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a limit lacks headroom")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench.memory: run as root (network namespaces)")
    containers: dict[str, dict[str, int]] = {}
    for size in SIZES:
        found = hook(size)
        sys.stdout.write(
            f"hook, {size} endpoints: hook {_mib(found['hook']):.1f} MiB + keepalived -t "
            f"{_mib(found['keepalived -t']):.1f} MiB\n"
        )
        containers[f"{HOOK}@{size}"] = found
    containers[EXABGP] = exabgp()
    containers[KEEPALIVED] = keepalived()
    containers[SETUP] = setup()
    containers[NODE_AGENT] = agent()
    worst: dict[str, float] = {}
    for name, parts in containers.items():
        base = name.split("@")[0]
        worst[base] = max(worst.get(base, 0.0), _mib(sum(parts.values())))
    sys.stdout.write(
        "\n| container | processes at once | peak (MiB) | × 1.3 (MiB) | limit | headroom |\n"
        "|---|---|---:|---:|---:|---:|\n"
    )
    short = False
    for name, parts in containers.items():
        base = name.split("@")[0]
        total = _mib(sum(parts.values()))
        if total < worst[base]:
            continue
        limit = DEFAULT_RESOURCES[base][1]
        ratio = _limit_mib(limit) / total
        short |= ratio < HEADROOM
        shown = " + ".join(f"{k} {_mib(v):.1f}" for k, v in parts.items())
        sys.stdout.write(
            f"| {name} | {shown} | {total:.1f} | {math.ceil(total * HEADROOM)} | {limit} "
            f"| {ratio:.2f}× |\n"
        )
    if short and args.check:
        sys.stdout.write(f"a limit is below {HEADROOM} × its measured peak\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
