"""Short connections across an event, as a busy service's clients make them: keep COUNT
keep-alive HTTP connections to a VIP open at once, each living LIFETIME seconds and asking every
EVERY seconds, then closed and replaced by a new one. A line on stdin stops new ones; once the
open ones have lived out their lifetimes it prints one JSON object: how many connections were
made, and each that broke (the LB it was on, and why: an error, or another LB answering).
Run inside a client's namespace:
`python -m lbgen.testbed.clients.churn VIP PORT COUNT --lifetime S --every S [--bind ADDRESS]`."""

from __future__ import annotations

import argparse
import json
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from lbgen.testbed.clients.flows import ask, fields


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    made: int = 0
    broken: list[dict[str, Any]] = field(default_factory=list)

    def count(self, broken: dict[str, Any] | None) -> None:
        with self.lock:
            self.made += 1
            if broken is not None:
                self.broken.append(broken)


def _lb(answer: str) -> str:
    """Which LB answered: its name (an LB pod that answers itself), else the address the
    backend saw (an LB that forwards through IPVS with masquerade)."""
    found = fields(answer)
    return found.get("lb") or found.get("peer", "")


def one_connection(args: argparse.Namespace, started: float) -> dict[str, Any] | None:
    """One connection through its lifetime: None when every answer came from its first LB,
    else which LB it was on, why it broke, when it opened (seconds from the start) and its
    client port."""
    lb, port, opened = "", 0, round(time.monotonic() - started, 2)
    try:
        with socket.create_connection(
            (args.vip, args.port), timeout=5, source_address=(args.bind, 0)
        ) as conn:
            port = conn.getsockname()[1]
            lb = _lb(ask(conn))
            ends = time.monotonic() + args.lifetime
            while time.monotonic() < ends:
                time.sleep(min(args.every, max(0.0, ends - time.monotonic())))
                other = _lb(ask(conn))
                if other != lb:
                    why = f"answered by {other}"
                    return {"lb": lb, "why": why, "opened": opened, "port": port}
    except OSError as error:
        return {"lb": lb, "why": type(error).__name__, "opened": opened, "port": port}
    return None


def slot(args: argparse.Namespace, stopping: threading.Event, tally: Tally, started: float) -> None:
    while not stopping.is_set():
        tally.count(one_connection(args, started))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("vip")
    parser.add_argument("port", type=int)
    parser.add_argument("count", type=int)
    parser.add_argument("--lifetime", type=float, required=True)
    parser.add_argument("--every", type=float, required=True)
    parser.add_argument("--bind", default="")
    args = parser.parse_args()
    stopping, tally, started = threading.Event(), Tally(), time.monotonic()
    slots = [
        threading.Thread(target=slot, args=(args, stopping, tally, started))
        for _ in range(args.count)
    ]
    for thread in slots:
        thread.start()
        time.sleep(args.lifetime / args.count)  # their ends spread over a lifetime
    sys.stdout.write("open\n")
    sys.stdout.flush()
    sys.stdin.readline()
    stopping.set()
    for thread in slots:
        thread.join()
    sys.stdout.write(json.dumps({"made": tally.made, "broken": tally.broken}) + "\n")


if __name__ == "__main__":
    main()
