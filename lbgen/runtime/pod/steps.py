"""The pod subcommands' edges: each reads or changes the pod, using the pure pieces beside it."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from lbgen.contract import (
    EXABGP_CONF,
    EXABGP_PID,
    KEEPALIVED_CONF_NAME,
    LB_CONFIG,
    NODES_CONFIG,
    RUN_DIR,
)
from lbgen.errors import LbgenError
from lbgen.files import replace_file
from lbgen.passwords import read_password
from lbgen.plan import NodesConfig, PodConfig
from lbgen.runtime.config import read_config
from lbgen.runtime.pod.datapath import (
    local_routes,
    nft_ruleset,
    read_sysctls,
    sysctl_problems,
)
from lbgen.runtime.pod.facts import pod_facts

RUN = Path(RUN_DIR)


def _run(argv: list[str], stdin: str | None = None) -> None:
    done = subprocess.run(argv, input=stdin, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise LbgenError(f"{' '.join(argv)} failed: {done.stderr.strip() or done.returncode}")


def setup(
    config: PodConfig, config_dir: Path, run: Path = RUN, proc_sys: Path = Path("/proc/sys")
) -> None:
    """Init container: check the sysctls the kubelet set, route the prefix as local,
    load the masquerade rules, and hand keepalived its starting config."""
    wanted = config.service.pod_sysctls
    problems = sysctl_problems(read_sysctls(proc_sys, wanted), wanted)
    if problems:
        raise LbgenError(
            "the LB pod's sysctls are not set: "
            + "; ".join(problems)
            + " (the kubelet must allow net.ipv4.ip_forward and net.ipv4.vs.* as unsafe sysctls,"
            " and the node must load ip_vs: see out/<fabric>/nodes/<node>/modules-load.conf)"
        )
    for route in local_routes(config.service):
        _run(route)
    _run(["nft", "-f", "-"], stdin=nft_ruleset(config.service))
    target = run / KEEPALIVED_CONF_NAME
    if not target.exists():
        shutil.copyfile(config_dir / KEEPALIVED_CONF_NAME, target)


def exabgp_env(user: str) -> dict[str, str]:
    """exabgp in the foreground, without its own pid file (a stale one makes 4.2 exit silently)."""
    return {
        "exabgp.daemon.daemonize": "false",
        "exabgp.daemon.pid": "",
        "exabgp.daemon.user": user,
        "exabgp.api.cli": "false",
        "exabgp.log.destination": "stdout",
    }


def exabgp_conf(
    config: PodConfig,
    env: Mapping[str, str],
    config_path: Path = Path(LB_CONFIG),
    nodes_path: Path = Path(NODES_CONFIG),
) -> str:
    """exabgp.conf for this pod: its service's prefix, with this node as next hop, and each
    reflector's password from the Secret volume when its sessions have one."""
    from lbgen.render.exabgp import render_exabgp  # noqa: PLC0415 -- only this step renders

    facts = pod_facts(env, config.service.session_version)
    passwords = {
        rr.name: read_password(Path(rr.password_file), f"reflector {rr.name}")
        for rr in config.service.reflectors
        if rr.password_file is not None
    }
    node_ip6 = None
    if config.service.prefix6 is not None:
        nodes = read_config(nodes_path, NodesConfig, "nodes config")
        node_ip6 = dict(nodes.addresses6).get(facts.node)
    if config.service.prefix6 is not None and node_ip6 is None:
        raise LbgenError(
            f"this pod runs on node {facts.node}, which has no IPv6 address in {nodes_path}: "
            f"it may not run an LB of service {config.service.name}, which has an IPv6 prefix"
        )
    return render_exabgp(
        config.service,
        facts.pod_ip,
        facts.node_ip,
        config.source,
        passwords,
        node_ip6=node_ip6,
        announcer=announcer_command(config_path),
    )


def announcer_command(config_path: Path) -> tuple[str, ...]:
    """How exabgp runs the announcer: this Python, so exabgp needs no PATH to find it."""
    return (sys.executable, "-m", "lbgen", "pod", "announce", "--config", str(config_path))


def start_exabgp(
    config: PodConfig, env: Mapping[str, str], config_path: Path = Path(LB_CONFIG), run: Path = RUN
) -> None:
    """Render exabgp.conf with this pod's and node's addresses, then become exabgp."""
    conf = run / EXABGP_CONF.name
    # it may hold passwords: readable by this container's user only
    replace_file(conf, exabgp_conf(config, env, config_path), 0o600)
    (run / EXABGP_PID.name).write_text(f"{os.getpid()}\n", encoding="ascii")
    user = pwd.getpwuid(os.getuid()).pw_name if _has_passwd_entry() else "root"
    sys.stdout.flush()
    os.execvpe("exabgp", ["exabgp", str(conf)], {**env, **exabgp_env(user)})  # noqa: S606


def _has_passwd_entry() -> bool:
    try:
        pwd.getpwuid(os.getuid())
    except KeyError:
        return False
    return True
