"""The pod subcommands' edges: each reads or changes the pod, using the pure pieces beside it."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from lbgen.errors import LbgenError
from lbgen.plan import PodConfig
from lbgen.pod.datapath import local_route, nft_ruleset, read_sysctls, sysctl_problems
from lbgen.pod.facts import pod_facts
from lbgen.pod.probes import (
    established_bgp_peers,
    ipvs_services,
    process_state,
    readiness_problems,
)
from lbgen.render.exabgp import render_exabgp

RUN = Path("/run/lbgen")


def _run(argv: list[str], stdin: str | None = None) -> None:
    done = subprocess.run(argv, input=stdin, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise LbgenError(f"{' '.join(argv)} failed: {done.stderr.strip() or done.returncode}")


def setup(config: PodConfig, config_dir: Path, run: Path = RUN) -> None:
    """Init container: check the sysctls the kubelet set, route the prefix as local,
    load the masquerade rules, and hand keepalived its starting config."""
    problems = sysctl_problems(read_sysctls())
    if problems:
        raise LbgenError(
            "the LB pod's sysctls are not set: "
            + "; ".join(problems)
            + " (the kubelet must allow net.ipv4.ip_forward and net.ipv4.vs.* as unsafe sysctls,"
            " and the node must load ip_vs: see out/<fabric>/nodes/<node>/modules-load.conf)"
        )
    _run(local_route(config.service))
    _run(["nft", "-f", "-"], stdin=nft_ruleset(config.service))
    target = run / "keepalived.conf"
    if not target.exists():
        shutil.copyfile(config_dir / "keepalived.conf", target)


def exabgp_env(user: str) -> dict[str, str]:
    """exabgp in the foreground, without its own pid file (a stale one makes 4.2 exit silently)."""
    return {
        "exabgp.daemon.daemonize": "false",
        "exabgp.daemon.pid": "",
        "exabgp.daemon.user": user,
        "exabgp.api.cli": "false",
        "exabgp.log.destination": "stdout",
    }


def start_exabgp(config: PodConfig, env: Mapping[str, str], run: Path = RUN) -> None:
    """Render exabgp.conf with this pod's and node's addresses, then become exabgp."""
    facts = pod_facts(env)
    conf = run / "exabgp.conf"
    text = render_exabgp(config.service, facts.pod_ip, facts.node_ip, config.source)
    conf.write_text(text, encoding="utf-8")
    (run / "exabgp.pid").write_text(f"{os.getpid()}\n", encoding="ascii")
    user = pwd.getpwuid(os.getuid()).pw_name if _has_passwd_entry() else "root"
    sys.stdout.flush()
    os.execvpe("exabgp", ["exabgp", str(conf)], {**env, **exabgp_env(user)})  # noqa: S606


def _has_passwd_entry() -> bool:
    try:
        pwd.getpwuid(os.getuid())
    except KeyError:
        return False
    return True


def ready(config: PodConfig, env: Mapping[str, str], proc: Path = Path("/proc")) -> list[str]:
    facts = pod_facts(env)
    tcp = (proc / "net/tcp").read_text(encoding="ascii")
    try:
        ip_vs = (proc / "net/ip_vs").read_text(encoding="ascii")
    except OSError:
        ip_vs = ""
    service = config.service
    return readiness_problems(
        established_bgp_peers(tcp, facts.pod_ip),
        (rr.address for rr in service.reflectors),
        ipvs_services(ip_vs),
        ((p.protocol, vip, p.port) for vip in service.vips for p in service.ports),
    )


def alive(pidfile: Path, proc: Path = Path("/proc")) -> str | None:
    """None when the process named by the pid file runs, else why not."""
    try:
        pid = int(pidfile.read_text(encoding="ascii").strip())
        stat = (proc / str(pid) / "stat").read_text(encoding="ascii")
    except (OSError, ValueError) as error:
        return f"{pidfile}: no running process ({error})"
    state = process_state(stat)
    return f"process {pid} is a zombie" if state == "Z" else None


def withdraw(pidfile: Path, wait: float = 5.0, proc: Path = Path("/proc")) -> str:
    """Stop exabgp so its sessions close and the reflectors withdraw the route at once."""
    try:
        pid = int(pidfile.read_text(encoding="ascii").strip())
        cmdline = (proc / str(pid) / "cmdline").read_bytes()
    except (OSError, ValueError):
        return "exabgp is not running; nothing to withdraw"
    if b"exabgp" not in cmdline:
        return f"process {pid} is not exabgp; left alone"
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and _running(proc / str(pid)):
        time.sleep(0.05)
    if _running(proc / str(pid)):
        return f"exabgp {pid} did not stop within {wait:.0f} s; the hold time will withdraw it"
    return f"exabgp {pid} stopped; route withdrawn"


def _running(process: Path) -> bool:
    """True while the process exists and has not exited (a zombie has, its sessions closed)."""
    try:
        return process_state((process / "stat").read_text(encoding="ascii")) != "Z"
    except OSError:
        return False


def drain(seconds: int) -> None:
    """keepalived's preStop: keep IPVS serving open flows after the route is withdrawn."""
    with contextlib.suppress(KeyboardInterrupt):
        time.sleep(seconds)
