"""Command line: wiring only. Exit codes: 0 ok, 1 findings or stale output, 2 usage or internal."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from lbgen import __version__
from lbgen.errors import LbgenError

if TYPE_CHECKING:
    from lbgen.compiler import Compiled

# commands import what they use when they run: `lbgen pod check` is a kubelet probe run every
# few seconds, and must not pay for the compiler
FORMAT_NAMES = ("github", "json", "text")  # the keys of lbgen.report.FORMATS (a test checks)

OK, FINDINGS, INTERNAL = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lbgen", description="Compile a load-balancer fabric spec into every config it needs."
    )
    parser.add_argument("--version", action="version", version=f"lbgen {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def spec_command(name: str, help_text: str) -> argparse.ArgumentParser:
        command = commands.add_parser(name, help=help_text, description=help_text)
        command.add_argument("specs", nargs="+", type=Path, metavar="SPEC")
        command.add_argument(
            "--format",
            choices=FORMAT_NAMES,
            default=None,
            help="diagnostics format (default: github when GITHUB_ACTIONS=true, else text)",
        )
        return command

    build = spec_command("build", "Validate SPEC and write its files to out/<name>/.")
    build.add_argument("-o", "--output", type=Path, help="output folder (one SPEC only)")
    mode = build.add_mutually_exclusive_group()
    mode.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 with a diff when the output is stale",
    )
    mode.add_argument(
        "--diff", action="store_true", help="write nothing; print what a build would change"
    )
    spec_command("validate", "Check SPEC and everything it compiles to; write nothing.")

    pod = commands.add_parser("pod", help="Steps run inside an LB pod (see cluster/).")
    steps = pod.add_subparsers(dest="step", required=True, metavar="STEP")
    for name, text in (
        ("setup", "init container: check sysctls, route the prefix locally, masquerade rules"),
        ("exabgp", "render exabgp.conf for this pod and node, then exec exabgp"),
    ):
        step = steps.add_parser(name, help=text, description=text)
        step.add_argument("--config", type=Path, default=Path("/etc/lbgen/lb.json"))
    check = steps.add_parser("check", help="probes: `ready` or `alive`")
    check.add_argument("probe", choices=("ready", "alive"))
    check.add_argument("--config", type=Path, default=Path("/etc/lbgen/lb.json"))
    check.add_argument("--pidfile", type=Path, default=Path("/run/lbgen/exabgp.pid"))
    withdraw = steps.add_parser("withdraw", help="preStop: stop exabgp so the route goes")
    withdraw.add_argument("--pidfile", type=Path, default=Path("/run/lbgen/exabgp.pid"))
    drain = steps.add_parser("drain", help="preStop: keep IPVS serving while flows drain")
    drain.add_argument("--seconds", type=int, required=True)

    hook = commands.add_parser(
        "hook",
        help="In an LB pod: keep keepalived's real servers equal to live endpoints.",
        description="Settings come from LBGEN_HOOK_* variables; these flags override them.",
    )
    hook.add_argument("--config", type=Path, help="the pod's lb.json")
    hook.add_argument("--api-server", help="API URL when not running in a cluster")
    hook.add_argument("--metrics-port", type=int, help="0 disables /metrics, /healthz, /readyz")

    agent = commands.add_parser("node-agent", help="Route LB prefixes to the LB pods of a node.")
    agent.add_argument("--namespace", required=True)
    agent.add_argument("--fabric", required=True)
    agent.add_argument(
        "--node", default=os.environ.get("NODE_NAME"), help="this node's name (default: $NODE_NAME)"
    )

    testbed = commands.add_parser(
        "testbed", help="Run the compiled fabric with the real daemons in network namespaces."
    )
    testbed.add_argument("action", choices=("up", "status", "check", "down"))
    testbed.add_argument("spec", type=Path, metavar="SPEC")
    testbed.add_argument("--workdir", type=Path, help="default: .testbed/<fabric>")
    testbed.add_argument("--timeout", type=float, default=60, help="seconds to converge (up)")

    schema = commands.add_parser("schema", help="Write the spec's JSON Schema.")
    schema.add_argument("-o", "--output", type=Path, help="default: schema/lbgen.schema.json")
    schema.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 when the schema file is stale"
    )
    return parser


def _display(path: Path) -> str:
    """How a spec is named in headers and diagnostics: relative to here when below here."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _report(results: Sequence[Compiled], fmt: str | None) -> None:
    from lbgen.report import FORMATS  # noqa: PLC0415

    chosen = fmt or ("github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text")
    found = [d for result in results for d in result.diagnostics]
    if found or chosen == "json":
        sys.stdout.write(FORMATS[chosen](found))


def _status(results: Sequence[Compiled]) -> int:
    if any(r.internal for r in results):
        return INTERNAL
    return OK if all(r.ok for r in results) else FINDINGS


def _validate(args: argparse.Namespace) -> int:
    from lbgen.compiler import compile_file  # noqa: PLC0415

    results = [compile_file(spec, _display(spec)) for spec in args.specs]
    _report(results, args.format)
    return _status(results)


def _build(args: argparse.Namespace) -> int:
    from lbgen.compiler import compile_file  # noqa: PLC0415
    from lbgen.output import apply, compare  # noqa: PLC0415

    if args.output is not None and len(args.specs) > 1:
        raise LbgenError("-o/--output takes one SPEC; build several specs into out/<name>/")
    results = [compile_file(spec, _display(spec)) for spec in args.specs]
    _report(results, args.format)
    status = _status(results)
    if status != OK:
        return status
    pending = []
    for result in results:
        assert result.tree is not None
        assert result.plan is not None
        out_dir = args.output or Path("out") / result.plan.fabric
        pending.append((out_dir, compare(out_dir, result.tree)))
    if args.check or args.diff:
        stale = False
        for out_dir, changes in pending:
            sys.stdout.write(changes.diff)
            if changes.stale:
                stale = True
                if args.check:
                    sys.stderr.write(f"{out_dir}: stale; run `lbgen build` and commit the result\n")
        return FINDINGS if (stale and args.check) else OK
    for out_dir, changes in pending:
        apply(out_dir, changes)
        sys.stderr.write(
            f"{out_dir}: {len(changes.write)} written, {len(changes.delete)} removed\n"
            if changes.stale
            else f"{out_dir}: up to date\n"
        )
    return OK


def _schema(args: argparse.Namespace) -> int:
    from lbgen.schema import SCHEMA_PATH, render_schema  # noqa: PLC0415

    text = render_schema()
    path: Path = args.output or Path(SCHEMA_PATH)
    current = path.read_text(encoding="utf-8") if path.exists() else None
    if args.check:
        if current != text:
            sys.stderr.write(f"{path}: stale; run `lbgen schema` and commit the result\n")
            return FINDINGS
        return OK
    if current != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.lbgen-tmp")
        temp.write_text(text, encoding="utf-8")
        temp.replace(path)
    return OK


def _pod(args: argparse.Namespace) -> int:
    # probes and preStop hooks run often: they import only what they use, never the plan models
    if args.step in ("withdraw", "drain") or (args.step == "check" and args.probe == "alive"):
        from lbgen.pod import process  # noqa: PLC0415

        if args.step == "withdraw":
            sys.stdout.write(process.withdraw(args.pidfile) + "\n")
            return OK
        if args.step == "drain":
            process.drain(args.seconds)
            return OK
        problem = process.alive(args.pidfile)
        if problem:
            sys.stderr.write(f"not alive: {problem}\n")
        return FINDINGS if problem else OK
    if args.step == "check":
        from lbgen.pod.probes import ready  # noqa: PLC0415

        try:
            text = args.config.read_text(encoding="utf-8")
        except OSError as error:
            raise LbgenError(f"{args.config}: cannot read the LB config: {error}") from error
        problems = ready(text, os.environ)
        for problem in problems:
            sys.stderr.write(f"not ready: {problem}\n")
        return FINDINGS if problems else OK
    from lbgen.pod import steps  # noqa: PLC0415 -- once per pod start
    from lbgen.pod.facts import read_pod_config  # noqa: PLC0415

    config = read_pod_config(args.config)
    if args.step == "setup":
        steps.setup(config, args.config.parent)
        return OK
    steps.start_exabgp(config, os.environ)
    return INTERNAL  # exec returned: cannot happen


def _hook(args: argparse.Namespace) -> int:
    from lbgen.hook.run import run_hook  # noqa: PLC0415 -- imports the kubernetes client
    from lbgen.hook.settings import HookSettings  # noqa: PLC0415
    from lbgen.pod.facts import read_pod_config  # noqa: PLC0415

    given = {
        k: v
        for k in ("config", "api_server", "metrics_port")
        if (v := getattr(args, k)) is not None
    }
    settings = HookSettings(**given)
    return run_hook(read_pod_config(settings.config), settings)


def _testbed(args: argparse.Namespace) -> int:
    import time  # noqa: PLC0415

    from lbgen.compiler import compile_file  # noqa: PLC0415
    from lbgen.testbed.report import fib_report  # noqa: PLC0415 -- root-only machinery
    from lbgen.testbed.run import Testbed  # noqa: PLC0415

    result = compile_file(args.spec, _display(args.spec))
    _report([result], None)
    if result.tree is None or result.plan is None:
        return _status([result])
    work = args.workdir or Path(".testbed") / result.plan.fabric
    bed = Testbed(result.plan, result.tree, work.resolve(), f"lbt-{result.plan.fabric[:8]}-")
    if args.action == "down":
        bed.down()
        return OK
    if args.action == "up":
        bed.up()
        deadline = time.monotonic() + args.timeout
        while bed.nexthops() != bed.expected() and time.monotonic() < deadline:
            time.sleep(0.2)
    sys.stdout.write(fib_report(bed.nexthops(), bed.expected()))
    return OK if bed.nexthops() == bed.expected() or args.action == "status" else FINDINGS


def _node_agent(args: argparse.Namespace) -> int:
    from lbgen.agent.run import run_agent  # noqa: PLC0415 -- imports the kubernetes client

    if not args.node:
        raise LbgenError("the node's name is unknown: pass --node or set NODE_NAME")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    return run_agent(args.namespace, args.fabric, args.node)


COMMANDS = {
    "build": _build,
    "validate": _validate,
    "schema": _schema,
    "pod": _pod,
    "hook": _hook,
    "testbed": _testbed,
    "node-agent": _node_agent,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except LbgenError as error:
        sys.stderr.write(f"lbgen: error: {error}\n")
        return INTERNAL
    except Exception as error:  # noqa: BLE001 -- the last line of defence: never a traceback
        sys.stderr.write(
            f"lbgen: internal error: {type(error).__name__}: {error}\n"
            "this is a bug in lbgen; please report it with the spec that caused it\n"
        )
        return INTERNAL
