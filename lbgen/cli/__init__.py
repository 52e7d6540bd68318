"""Command line: wiring only. Each subcommand parses, calls one function of the module that owns
the work, and maps the result to an exit code: 0 ok, 1 findings or stale output, 2 usage or
internal error."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from lbgen.cli.parser import FORMAT_NAMES, build_parser
from lbgen.errors import LbgenError
from lbgen.origin import shown

if TYPE_CHECKING:
    from lbgen.compiler import Compiled
    from lbgen.output import Synced

# commands import what they use when they run: `lbgen pod check` is a kubelet probe run every
# few seconds, and must not pay for the compiler
__all__ = ["FORMAT_NAMES", "main"]

OK, FINDINGS, INTERNAL = 0, 1, 2

Command = Callable[[argparse.Namespace], int]


def _say(fmt: str | None, results: Sequence[Compiled], outputs: Sequence[Synced] = ()) -> None:
    from lbgen.report import FORMATS  # noqa: PLC0415

    chosen = fmt or ("github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text")
    said = FORMATS[chosen]([d for r in results for d in r.diagnostics], outputs)
    sys.stdout.write(said.stdout)
    sys.stderr.write(said.stderr)


def _status(results: Sequence[Compiled], outputs: Sequence[Synced] = ()) -> int:
    if any(r.internal for r in results):
        return INTERNAL
    if not all(r.ok for r in results) or any(s.failed for s in outputs):
        return FINDINGS
    return OK


def _compile_all(specs: Sequence[Path]) -> list[Compiled]:
    from lbgen.compiler import compile_file  # noqa: PLC0415

    return [compile_file(spec, shown(spec)) for spec in specs]


def _specs(args: argparse.Namespace) -> list[Path]:
    if not args.fabrics_only:
        return list(args.specs)
    from lbgen.source import looks_like_fabric  # noqa: PLC0415

    return [spec for spec in args.specs if looks_like_fabric(spec)]


def _validate(args: argparse.Namespace) -> int:
    results = _compile_all(_specs(args))
    _say(args.format, results)
    return _status(results)


def _build(args: argparse.Namespace) -> int:
    from lbgen.origin import default_output  # noqa: PLC0415
    from lbgen.output import Mode, sync  # noqa: PLC0415

    if args.output is not None and len(args.specs) > 1:
        raise LbgenError("-o/--output takes one SPEC; build several specs into out/<name>/")
    specs = _specs(args)
    results = _compile_all(specs)
    if _status(results) != OK:
        _say(args.format, results)
        return _status(results)
    mode = Mode.CHECK if args.check else Mode.DIFF if args.diff else Mode.WRITE
    outputs = []
    for spec, result in zip(specs, results, strict=True):
        assert result.tree is not None
        assert result.plan is not None
        folder = args.output or default_output(spec, result.plan.fabric)
        outputs.append(sync(folder, result.tree, result.name, mode))
    _say(args.format, results, outputs)
    return _status(results, outputs)


def _schema(args: argparse.Namespace) -> int:
    from lbgen.origin import repository_root  # noqa: PLC0415
    from lbgen.output import Mode, sync_file  # noqa: PLC0415
    from lbgen.schema import SCHEMA_PATH, render_schema  # noqa: PLC0415

    path: Path = args.output or (repository_root(Path.cwd()) or Path()) / SCHEMA_PATH
    stale = sync_file(path, render_schema(), Mode.CHECK if args.check else Mode.WRITE)
    if stale and args.check:
        sys.stderr.write(f"{path}: stale; run `lbgen schema` and commit the result\n")
        return FINDINGS
    return OK


def _pod_setup(args: argparse.Namespace) -> int:
    from lbgen.runtime.pod import steps  # noqa: PLC0415 -- once per pod start
    from lbgen.runtime.pod.facts import read_pod_config  # noqa: PLC0415

    steps.setup(read_pod_config(args.config), args.config.parent)
    return OK


def _pod_exabgp(args: argparse.Namespace) -> int:
    from lbgen.runtime.pod import steps  # noqa: PLC0415
    from lbgen.runtime.pod.facts import read_pod_config  # noqa: PLC0415

    config = read_pod_config(args.config)
    if args.render_only:
        sys.stdout.write(steps.exabgp_conf(config, os.environ, args.config))
        return OK
    steps.start_exabgp(config, os.environ, args.config)
    return INTERNAL  # exec returned: cannot happen


def _pod_check(args: argparse.Namespace) -> int:
    # probes run every few seconds: they import only what they read, never the plan models
    if args.probe == "alive":
        from lbgen.runtime.pod.process import alive, beating  # noqa: PLC0415

        problems = [p] if (p := alive(args.pidfile)) else []
        if args.beat is not None and (p := beating(args.beat, args.stale)):
            problems.append(p)
    else:
        from lbgen.runtime.pod.health import ready  # noqa: PLC0415

        try:
            text = args.config.read_text(encoding="utf-8")
        except OSError as error:
            raise LbgenError(f"{args.config}: cannot read the LB config: {error}") from error
        problems = ready(text, os.environ)
    for problem in problems:
        sys.stderr.write(f"not {args.probe}: {problem}\n")
    return FINDINGS if problems else OK


def _pod_announce(args: argparse.Namespace) -> int:
    from lbgen.runtime.pod.announce import run_announcer  # noqa: PLC0415 -- light: json and /proc

    return run_announcer(args.config, [tuple(r) for r in args.route], os.environ)


def _pod_withdraw(args: argparse.Namespace) -> int:
    from lbgen.runtime.pod.process import withdraw  # noqa: PLC0415

    sys.stdout.write(withdraw(args.pidfile, after=args.after) + "\n")
    return OK


def _pod_drain(args: argparse.Namespace) -> int:
    from lbgen.runtime.pod.process import drain  # noqa: PLC0415

    drain(args.seconds)
    return OK


def _hook(args: argparse.Namespace) -> int:
    from lbgen.runtime.hook.run import run_hook_command  # noqa: PLC0415 -- the runtime's own imports

    given = {k: getattr(args, k) for k in ("config", "api_server", "metrics_port", "once")}
    return run_hook_command({k: v for k, v in given.items() if v not in (None, False)})


def _node_agent(args: argparse.Namespace) -> int:
    from lbgen.runtime.agent.run import run_agent  # noqa: PLC0415 -- the runtime's own imports

    if not args.node:
        raise LbgenError("the node's name is unknown: pass --node or set NODE_NAME")
    return run_agent(args.config, args.node, api_server=args.api_server)


def _router_fib(args: argparse.Namespace) -> int:
    from lbgen.runtime.fib.run import run_router_fib  # noqa: PLC0415 -- the runtime's own imports

    return run_router_fib(args.config)


def _box_config(args: argparse.Namespace) -> int:
    from lbgen.boxconfig import box_config, write_secret_file  # noqa: PLC0415

    text = box_config(args.folder, args.root)
    if str(args.output) == "-":
        sys.stdout.write(text)
    else:
        write_secret_file(args.output, text)
    return OK


def _testbed(args: argparse.Namespace) -> int:
    from lbgen.testbed.command import run_testbed  # noqa: PLC0415 -- root-only machinery

    result = _compile_all([args.spec])[0]
    _say(None, [result])
    if result.tree is None or result.plan is None:
        return _status([result])
    return OK if run_testbed(result.plan, result.tree, args) else FINDINGS


HANDLERS: dict[str, Command] = {
    "box_config": _box_config,
    "build": _build,
    "hook": _hook,
    "node_agent": _node_agent,
    "router_fib": _router_fib,
    "pod_announce": _pod_announce,
    "pod_check": _pod_check,
    "pod_drain": _pod_drain,
    "pod_exabgp": _pod_exabgp,
    "pod_setup": _pod_setup,
    "pod_withdraw": _pod_withdraw,
    "schema": _schema,
    "testbed": _testbed,
    "validate": _validate,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run = HANDLERS[args.handler]
    try:
        return run(args)
    except LbgenError as error:
        sys.stderr.write(f"lbgen: error: {error}\n")
        return INTERNAL
    except Exception as error:  # noqa: BLE001 -- the last line of defence: never a traceback
        sys.stderr.write(
            f"lbgen: internal error: {type(error).__name__}: {error}\n"
            "this is a bug in lbgen; please report it with the spec that caused it\n"
        )
        return INTERNAL
