"""The announcer: exabgp's process (exabgp.conf's `process announce`). Per family, it announces
the service's prefix while this LB pod's datapath can serve that family
(lbgen.runtime.pod.health) and withdraws it when it cannot, with rise/fall counts and a
hold-down that grows while a check flaps. It reads exabgp's messages (acks, neighbour changes)
so exabgp never blocks on a full pipe, and writes what it decided to /run/lbgen/announce.json
for the hook's /metrics."""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from ipaddress import ip_address, ip_network
from pathlib import Path
from typing import IO, Any

from lbgen.contract import ANNOUNCE_STATUS, RUN_DIR
from lbgen.errors import LbgenError
from lbgen.files import replace_file
from lbgen.runtime.pod.health import datapath_problems, observe, wanted_keys

FAMILIES = {4: "ipv4", 6: "ipv6"}
# the hold-down doubles for each short-lived announcement, up to this many times its base
HOLD_DOWN_GROWTH = 8


@dataclass
class Gate:
    """One family's decision: announced or not, changed only after `rise` passing or `fall`
    failing checks in a row; after a withdrawal, announced again no sooner than the hold-down,
    which doubles (up to HOLD_DOWN_GROWTH × its base) when the announcement before it lasted
    less than HOLD_DOWN_GROWTH × the base, and falls back to the base after one that held."""

    rise: int
    fall: int
    hold_down: float
    announced: bool | None = None  # None: nothing decided yet
    streak: int = 0  # checks in a row that disagree with `announced`
    changes: int = 0  # announcements and withdrawals after the first decision
    hold: float = field(init=False)
    since: float = 0.0  # when `announced` last changed
    withdrawn_at: float | None = None

    def __post_init__(self) -> None:
        self.hold = self.hold_down

    def check(self, ok: bool, now: float) -> bool | None:
        """What to do after this check: True announce, False withdraw, None nothing."""
        if ok is self.announced:
            self.streak = 0
            return None
        self.streak += 1
        if self.streak < (self.rise if ok else self.fall):
            return None
        if ok and self.withdrawn_at is not None and now - self.withdrawn_at < self.hold:
            return None
        if not ok and self.announced:
            short = now - self.since < self.hold_down * HOLD_DOWN_GROWTH
            grow = short and self.withdrawn_at is not None
            self.hold = (
                min(self.hold * 2, self.hold_down * HOLD_DOWN_GROWTH) if grow else self.hold_down
            )
            self.withdrawn_at = now
        if self.announced is not None:
            self.changes += 1
        self.announced, self.streak, self.since = ok, 0, now
        return ok

    @property
    def pending(self) -> bool:
        """A change is on its way: check faster."""
        return self.streak > 0


@dataclass(frozen=True)
class Route:
    family: int  # 4 or 6
    prefix: str
    next_hop: str

    def command(self, announce: bool) -> str:
        verb = "announce" if announce else "withdraw"
        return f"{verb} route {self.prefix} next-hop {self.next_hop}"


@dataclass
class Sessions:
    """Each reflector's session as exabgp reports it (`neighbor-changes`), by address."""

    names: dict[str, str]  # reflector address → name
    up: dict[str, bool] = field(default_factory=dict)
    errors: int = 0  # commands exabgp answered `error` to

    def read(self, line: str) -> None:
        line = line.strip()
        if line == "error":
            self.errors += 1
            sys.stderr.write("lbgen announce: exabgp refused a command\n")
        if not line.startswith("{"):
            return  # `done`: an ack
        try:
            message = json.loads(line)
            if message.get("type") != "state":
                return
            neighbor = message["neighbor"]
            peer = str(ip_address(neighbor["address"]["peer"]))
            state = neighbor["state"]
        except (ValueError, KeyError, TypeError):
            return
        name = self.names.get(peer)
        if name is not None:
            self.up[name] = state == "up"

    def state(self) -> dict[str, bool]:
        return {name: self.up.get(name, False) for name in sorted(self.names.values())}


def routes(service: Mapping[str, Any], given: list[tuple[str, str]]) -> list[Route]:
    """The (prefix, next hop) pairs exabgp.conf passed, each of its service's prefixes once."""
    mine = {str(ip_network(p)) for p in (service.get("prefix"), service.get("prefix6")) if p}
    found = []
    for prefix, next_hop in given:
        network, hop = ip_network(prefix), ip_address(next_hop)
        if str(network) not in mine or network.version != hop.version:
            raise ValueError(f"{prefix} via {next_hop} is not a route of this service")
        found.append(Route(network.version, str(network), str(hop)))
    return sorted(found, key=lambda r: r.family)


@dataclass
class Announcer:
    service: Mapping[str, Any]  # lb.json's `service`
    routes: list[Route]
    env: Mapping[str, str]
    say: Callable[[str], None]
    run: Path = Path(RUN_DIR)
    clock: Callable[[], float] = time.monotonic
    gates: dict[int, Gate] = field(init=False)
    sessions: Sessions = field(init=False)
    problems: dict[int, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        a = self.service["announce"]
        self.gates = {r.family: Gate(a["rise"], a["fall"], a["hold_down"]) for r in self.routes}
        names = {str(ip_address(rr["address"])): rr["name"] for rr in self.service["reflectors"]}
        self.sessions = Sessions(names)

    @property
    def interval(self) -> float:
        """Until the next check: a quarter of the interval while a change is pending."""
        base = float(self.service["announce"]["interval"])
        return base / 4 if any(g.pending for g in self.gates.values()) else base

    def step(self) -> None:
        """One check of every family, and what it changes."""
        seen = observe(self.env, float(self.service["announce"]["hook_stale"]), self.run)
        now = self.clock()
        for route in self.routes:
            problems = datapath_problems(wanted_keys(self.service, route.family), seen)
            change = self.gates[route.family].check(not problems, now)
            if change is not None:
                self.say(route.command(change))
                why = "; ".join(problems) or "the datapath serves it"
                sys.stderr.write(f"lbgen announce: {route.command(change)} ({why})\n")
            self.problems[route.family] = problems
        self.write_status(now)

    def status(self, now: float) -> dict[str, Any]:
        return {
            "beat": now,
            "families": {
                FAMILIES[family]: {
                    "announced": bool(gate.announced),
                    "changes": gate.changes,
                    "problems": self.problems.get(family, []),
                }
                for family, gate in sorted(self.gates.items())
            },
            "sessions": self.sessions.state(),
            "errors": self.sessions.errors,
        }

    def write_status(self, now: float) -> None:
        try:
            text = json.dumps(self.status(now), sort_keys=True) + "\n"
            replace_file(self.run / ANNOUNCE_STATUS.name, text, 0o644)
        except (OSError, LbgenError) as error:  # a full /run: the decisions stand, metrics wait
            sys.stderr.write(f"lbgen announce: cannot write its status: {error}\n")


def _follow(stream: IO[str], sessions: Sessions, ended: threading.Event) -> None:
    for line in stream:
        sessions.read(line)
    ended.set()  # exabgp closed our stdin: it is going


def run_announcer(
    config: Path, given: list[tuple[str, str]], env: Mapping[str, str], run: Path = Path(RUN_DIR)
) -> int:
    """`lbgen pod announce`: check, decide and tell exabgp until exabgp goes."""
    service = json.loads(config.read_text(encoding="utf-8"))["service"]
    ended = threading.Event()
    signal.signal(signal.SIGTERM, lambda _s, _f: ended.set())

    def say(command: str) -> None:
        sys.stdout.write(command + "\n")
        sys.stdout.flush()

    announcer = Announcer(service, routes(service, given), env, say, run)
    reader = threading.Thread(
        target=_follow, args=(sys.stdin, announcer.sessions, ended), daemon=True
    )
    reader.start()
    try:
        while not ended.is_set():
            announcer.step()
            ended.wait(announcer.interval)
    except BrokenPipeError:
        return 0  # exabgp went while we spoke
    return 0
