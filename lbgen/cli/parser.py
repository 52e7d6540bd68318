"""The command line's shape: subcommands, their arguments, and which handler each names
(`handler`, a key of lbgen.cli.HANDLERS)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from lbgen import __version__
from lbgen.contract import AGENT_CONFIG, EXABGP_PID, LB_CONFIG, ROUTER_FIB_CONFIG

FORMAT_NAMES = ("github", "json", "text")  # the keys of lbgen.report.FORMATS (a test checks)
CONFIG = Path(LB_CONFIG)


def _spec_command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], name: str, text: str
) -> argparse.ArgumentParser:
    command = commands.add_parser(name, help=text, description=text)
    command.add_argument("specs", nargs="+", type=Path, metavar="SPEC")
    command.add_argument(
        "--format",
        choices=FORMAT_NAMES,
        default=None,
        help="report format (default: github when GITHUB_ACTIONS=true, else text)",
    )
    command.add_argument(
        "--fabrics-only",
        action="store_true",
        help="skip YAML files that declare neither apiVersion lbgen.io/... nor kind Fabric "
        "(pre-commit passes every YAML file of a folder)",
    )
    return command


def _pod_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    pod = commands.add_parser("pod", help="Steps run inside an LB pod (see cluster/).")
    steps = pod.add_subparsers(dest="step", required=True, metavar="STEP")
    setup = steps.add_parser("setup", help="init container: sysctls, local route, masquerade")
    setup.add_argument("--config", type=Path, default=CONFIG)
    setup.set_defaults(handler="pod_setup")
    exabgp = steps.add_parser("exabgp", help="render exabgp.conf for this pod, then exec exabgp")
    exabgp.add_argument("--config", type=Path, default=CONFIG)
    exabgp.add_argument(
        "--render-only", action="store_true", help="print the rendered exabgp.conf; start nothing"
    )
    exabgp.set_defaults(handler="pod_exabgp")
    announce = steps.add_parser(
        "announce", help="exabgp's process: announce each prefix while this pod can serve it"
    )
    announce.add_argument("--config", type=Path, default=CONFIG)
    announce.add_argument(
        "--route",
        nargs=2,
        action="append",
        default=[],
        metavar=("PREFIX", "NEXT_HOP"),
        help="a prefix of the service and its next hop (repeat: one per family)",
    )
    announce.set_defaults(handler="pod_announce")
    check = steps.add_parser("check", help="probes: `ready` or `alive`")
    check.add_argument("probe", choices=("ready", "alive"))
    check.add_argument("--config", type=Path, default=CONFIG)
    check.add_argument("--pidfile", type=Path, default=Path(EXABGP_PID))
    check.add_argument(
        "--beat",
        type=Path,
        help="alive: also want this status file's heartbeat fresh (the announcer's)",
    )
    check.add_argument(
        "--stale", type=float, default=30.0, help="alive: the oldest heartbeat that counts (s)"
    )
    check.set_defaults(handler="pod_check")
    withdraw = steps.add_parser("withdraw", help="preStop: stop exabgp so the route goes")
    withdraw.add_argument("--pidfile", type=Path, default=Path(EXABGP_PID))
    withdraw.add_argument(
        "--after", type=float, default=0.0, help="seconds to keep announcing first (the drain)"
    )
    withdraw.set_defaults(handler="pod_withdraw")
    drain = steps.add_parser("drain", help="preStop: keep IPVS serving while flows drain")
    drain.add_argument("--seconds", type=int, required=True)
    drain.set_defaults(handler="pod_drain")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lbgen", description="Compile a load-balancer fabric spec into every config it needs."
    )
    parser.add_argument("--version", action="version", version=f"lbgen {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    build = _spec_command(commands, "build", "Validate SPEC and write its files to out/<name>/.")
    build.add_argument(
        "-o",
        "--output",
        type=Path,
        help="output folder (one SPEC only; default: out/<name> at the spec's repository root)",
    )
    mode = build.add_mutually_exclusive_group()
    mode.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 when the output is stale"
    )
    mode.add_argument(
        "--diff", action="store_true", help="write nothing; print what a build would change"
    )
    build.set_defaults(handler="build")
    _spec_command(
        commands, "validate", "Check SPEC and everything it compiles to; write nothing."
    ).set_defaults(handler="validate")

    _pod_parser(commands)

    hook = commands.add_parser(
        "hook",
        help="In an LB pod: keep keepalived's real servers equal to live endpoints.",
        description="Settings come from LBGEN_HOOK_* variables; these flags override them.",
    )
    hook.add_argument("--config", type=Path, help="the pod's lb.json")
    hook.add_argument("--api-server", help="API URL when not running in a cluster")
    hook.add_argument("--metrics-port", type=int, help="0 disables /metrics, /healthz, /readyz")
    hook.add_argument(
        "--once", action="store_true", help="list once, write and check keepalived.conf, exit"
    )
    hook.set_defaults(handler="hook")

    agent = commands.add_parser("node-agent", help="Route LB prefixes to the LB pods of a node.")
    agent.add_argument(
        "--config", type=Path, default=Path(AGENT_CONFIG), help="the fabric's node-agent.json"
    )
    agent.add_argument(
        "--node", default=os.environ.get("NODE_NAME"), help="this node's name (default: $NODE_NAME)"
    )
    agent.add_argument(
        "--api-server",
        default=os.environ.get("LBGEN_AGENT_API_SERVER"),
        help="API URL when not running in a cluster (default: $LBGEN_AGENT_API_SERVER)",
    )
    agent.set_defaults(handler="node_agent")

    fib = commands.add_parser(
        "router-fib",
        help=(
            "On a router: forward service prefixes through resilient groups that follow "
            "zebra (or BIRD)."
        ),
    )
    fib.add_argument(
        "--config",
        type=Path,
        default=Path(ROUTER_FIB_CONFIG),
        help="the router's router-fib.json (out/<fabric>/routers/<router>/)",
    )
    fib.set_defaults(handler="router_fib")

    testbed = commands.add_parser(
        "testbed", help="Run the compiled fabric with the real daemons in network namespaces."
    )
    testbed.add_argument("action", choices=("up", "status", "check", "down"))
    testbed.add_argument("spec", type=Path, metavar="SPEC")
    testbed.add_argument("--workdir", type=Path, help="default: .testbed/<fabric>")
    testbed.add_argument(
        "--timeout", type=float, help="seconds to converge (up); default 60, 300 in the VM"
    )
    testbed.add_argument(
        "--rootfs", type=Path, help="run the LB pods' containers in this image root filesystem"
    )
    testbed.add_argument(
        "--external",
        action="append",
        default=[],
        metavar="ROUTER=BIRD_CONF",
        help=(
            "an external router's BIRD config, as its owners would write it from its "
            "contract.json: the testbed runs BIRD on it in that router's place (up)"
        ),
    )
    testbed.add_argument(
        "--kernel",
        choices=("host", "vm"),
        default="host",
        help="vm: `check` in a Debian kernel with IPVS under QEMU, every LB pod whole",
    )
    testbed.set_defaults(handler="testbed")

    box = commands.add_parser(
        "box-config",
        help=(
            "On a router or reflector: its frr.conf (bird.conf) from out/ with the passwords "
            "of its sessions."
        ),
        description=(
            "Read FOLDER/frr.conf, or a BIRD router's FOLDER/bird.conf (out/<fabric>/routers/"
            "<name> or reflectors/<name>), and the password files its passwords.json names; "
            "write the config the daemon reads (mode 0640)."
        ),
    )
    box.add_argument("folder", type=Path, metavar="FOLDER")
    box.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        help="e.g. /etc/frr/frr.conf, /etc/bird/bird.conf; - for stdout",
    )
    box.add_argument(
        "--root",
        type=Path,
        default=Path("/"),
        help="read the password files under this folder as if it were / (staging)",
    )
    box.set_defaults(handler="box_config")

    schema = commands.add_parser("schema", help="Write the spec's JSON Schema.")
    schema.add_argument("-o", "--output", type=Path, help="default: schema/lbgen.schema.json")
    schema.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 when the schema file is stale"
    )
    schema.set_defaults(handler="schema")
    return parser
