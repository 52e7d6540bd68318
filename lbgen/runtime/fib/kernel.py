"""Router-fib's kernel edge, through iproute2 and nftables (what every Linux router
has, and what its operator reads): zebra's routes and router-fib's own objects, the `ip -batch`
that changes them, its `ip rule`s, and the nftables table whose lease marks packets for its
table while router-fib lives.

The lease: a set element with a timeout, renewed by router-fib's heartbeat. Marked packets use
router-fib's table; when router-fib dies (even SIGKILL) the element times out, nothing is marked,
and forwarding is zebra's own route again, so the groups it leaves behind can never pin traffic
to a dead LB."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping, Sequence
from typing import Any

from lbgen.plan import RouterFibConfig
from lbgen.runtime.fib.groups import PROTO

NFT_TABLE = "lbgen_fib"
UNLEASED = "unleased"  # the comment of the rules that count what no lease marked


class KernelError(Exception):
    """An `ip` or `nft` command failed; its own words."""


def _run(argv: Sequence[str], stdin: str | None = None) -> str:
    try:
        done = subprocess.run(
            argv, input=stdin, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise KernelError(f"{argv[0]}: {error}") from error
    if done.returncode != 0:
        raise KernelError(f"{' '.join(argv[:4])}: {done.stderr.strip() or done.returncode}")
    return done.stdout


def _listing(*argv: str) -> list[dict[str, Any]]:
    text = _run(["ip", "-j", *argv]).strip()
    found = json.loads(text) if text else []
    return [e for e in found if isinstance(e, dict)] if isinstance(found, list) else []


def _families(config: RouterFibConfig) -> list[str]:
    """The `ip` family flags of the prefixes it follows (one listing fewer for each it has not)."""
    return [f for f, have in (("-4", config.prefixes), ("-6", config.prefixes6)) if have]


def zebra_listing(config: RouterFibConfig) -> list[dict[str, Any]]:
    """zebra's routes in the main table, of each family it follows."""
    return [
        route
        for family in _families(config)
        for route in _listing(
            family, "route", "show", "table", "main", "proto", str(config.route_protocol)
        )
    ]


def _table(family: str, table: int) -> list[dict[str, Any]]:
    try:
        return _listing(family, "route", "show", "table", str(table))
    except KernelError as error:
        if "table does not exist" in str(error):  # the kernel makes it with its first route
            return []
        raise


def own_listing(config: RouterFibConfig) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Router-fib's nexthop objects, and the routes of its table (of each family it follows)."""
    routes = [route for family in _families(config) for route in _table(family, config.table)]
    return _listing("nexthop", "show", "protocol", PROTO), routes


def rule_listing() -> list[dict[str, Any]]:
    """Every `ip rule` of both families (router-fib's pins among them)."""
    return [*_listing("-4", "rule", "show"), *_listing("-6", "rule", "show")]


def apply(lines: Sequence[str], family: str = "") -> None:
    """One `ip -batch` of the lines (it goes on past a failing line and then fails); `family`
    -6 for IPv6 rules, which a batch line cannot name."""
    if lines:
        argv = ["ip", *([family] if family else []), "-batch", "-", "-force"]
        _run(argv, stdin="\n".join(lines) + "\n")


def rules(config: RouterFibConfig) -> None:
    """Its `ip rule` for each family, added when missing (never deleted and re-added: a
    restart must not let marked packets through the main table for a moment)."""
    mark = f"{config.fwmark:#x}"
    for family in ("-4", "-6"):
        for rule in _listing(family, "rule", "show"):
            if rule.get("priority") == config.rule_priority and rule.get("fwmark") == mark:
                break
        else:
            _run(
                [
                    *("ip", family, "rule", "add", "fwmark", f"{mark}/{mark}"),
                    *("lookup", str(config.table), "priority", str(config.rule_priority)),
                ]
            )


def _lease_lines(config: RouterFibConfig) -> list[str]:
    """Renew the lease in one transaction (add, so that delete finds it; delete; add with a
    fresh timeout): nft 1.0.6 and Linux 6.1 cannot refresh an element's timeout in place."""
    element = f"{{ ipv4 timeout {config.lease_ms}ms, ipv6 timeout {config.lease_ms}ms }}"
    return [
        f"add element inet {NFT_TABLE} lease {element}",
        f"delete element inet {NFT_TABLE} lease {{ ipv4, ipv6 }}",
        f"add element inet {NFT_TABLE} lease {element}",
    ]


def _pinning(config: RouterFibConfig) -> list[str]:
    """Where leaving LBs are pinned (pins.py): each LB node's mark by its address (router-fib
    fills these maps), and each flow's conntrack entry marked with the node its first packet
    went to; a connection's first packet marks it anew (its client port may have served another
    connection before, whose entry conntrack takes up again)."""
    first = "tcp flags & (syn | ack) == syn"
    marks = []
    for ip, name in (("ip", "lbs4"), ("ip6", "lbs6")):
        prefixes = f"{ip} daddr @prefixes{name[-1]}"
        marking = f"ct mark set rt {ip} nexthop map @{name}"
        marks += [f"    {prefixes} {first} {marking}", f"    ct mark 0 {prefixes} {marking}"]
    return [
        "  map lbs4 { type ipv4_addr : mark; }",
        "  map lbs6 { type ipv6_addr : mark; }",
        "  chain forward {",
        "    type filter hook forward priority mangle; policy accept;",
        *marks,
        "  }",
    ]


def nft_script(config: RouterFibConfig) -> str:
    """Its nftables table, made anew in one transaction, with no lease yet (nothing is marked
    until `start_lease`): packets to a service prefix get the mark while the lease lives (with
    pins, a flow's node's mark beside it)."""
    marking = f"meta mark set meta mark or {config.fwmark:#x}"
    sets, rules = [], []
    for name, kind, ip, prefixes in (
        ("prefixes4", "ipv4_addr", "ip", config.prefixes),
        ("prefixes6", "ipv6_addr", "ip6", config.prefixes6),
    ):
        elements = f" elements = {{ {', '.join(map(str, prefixes))} }};" if prefixes else ""
        sets.append(f"  set {name} {{ type {kind}; flags interval;{elements} }}")
        to = f"meta nfproto @lease {ip} daddr @{name}"
        rules.append(f"    {to} counter {marking}")
        # what zebra's own route forwards while router-fib runs: a lease that lapsed (a starved
        # heartbeat), or no lease yet (an anonymous counter: Linux 6.1 refuses a named one
        # made in the transaction that replaces the table)
        rules.append(f'    meta nfproto != @lease {ip} daddr @{name} counter comment "{UNLEASED}"')
        if config.pin_seconds:
            # then a flow's node in its mark, for the pins' rules: never a connection's first
            # packet (a client port used again finds its old conntrack entry and mark), and
            # never a packet conntrack cannot place (no mark to read: the group's, above)
            pinned = f"meta mark set ct mark or {config.fwmark:#x}"
            rules.append(f"    {to} tcp flags & (syn | ack) == syn return")
            rules.append(f"    {to} ct mark != 0 counter {pinned}")
    return "\n".join(
        [
            f"add table inet {NFT_TABLE}",
            f"delete table inet {NFT_TABLE}",
            f"table inet {NFT_TABLE} {{",
            "  set lease { type nf_proto; flags timeout; }",
            *sets,
            *(_pinning(config) if config.pin_seconds else []),
            "  chain prerouting {",
            "    type filter hook prerouting priority mangle; policy accept;",
            *rules,
            "  }",
            "}",
            "",
        ]
    )


def set_lbs(marks: Mapping[str, int]) -> None:
    """The maps by which a flow's conntrack entry gets its node's mark (pins.flow_marks)."""
    six = {gateway: mark for gateway, mark in marks.items() if ":" in gateway}
    four = {gateway: mark for gateway, mark in marks.items() if ":" not in gateway}
    lines = []
    for name, found in (("lbs4", four), ("lbs6", six)):
        lines.append(f"flush map inet {NFT_TABLE} {name}")
        if found:
            elements = ", ".join(f"{g} : {n:#x}" for g, n in sorted(found.items()))
            lines.append(f"add element inet {NFT_TABLE} {name} {{ {elements} }}")
    _run(["nft", "-f", "-"], stdin="\n".join(lines) + "\n")


def install_table(config: RouterFibConfig) -> None:
    _run(["nft", "-f", "-"], stdin=nft_script(config))


def start_lease(config: RouterFibConfig) -> None:
    _run(["nft", "-f", "-"], stdin="\n".join(_lease_lines(config)) + "\n")


class Lease:
    """The heartbeat's writer: one `nft -i` kept running, fed one renewal (a transaction on one
    line) at a time, so that a renewal costs a pipe write, not a process, however loaded the
    router is. A renewal that fails is not retried: the lease runs out, which is safe."""

    def __init__(self, config: RouterFibConfig) -> None:
        self.line = "; ".join(_lease_lines(config)) + "\n"
        self.nft: subprocess.Popen[str] | None = None

    def renew(self) -> None:
        if self.nft is None or self.nft.poll() is not None:
            self.nft = subprocess.Popen(
                ["nft", "-i"],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,  # its errors go to router-fib's log (stderr)
                text=True,
            )
        assert self.nft.stdin is not None
        try:
            self.nft.stdin.write(self.line)
            self.nft.stdin.flush()
        except OSError as error:  # it died between the check and the write: the next renewal
            raise KernelError(f"nft -i: {error}") from error

    def close(self) -> None:
        if self.nft is not None and self.nft.stdin is not None:
            self.nft.stdin.close()
            self.nft.wait(timeout=5)


def lease_held() -> bool:
    """The lease's element is in its set (a renewal that failed would show here)."""
    try:
        return "expires" in _run(["nft", "list", "set", "inet", NFT_TABLE, "lease"])
    except KernelError:
        return False


def end_lease() -> None:
    """Forwarding back to zebra's routes at once (a graceful stop)."""
    _run(["nft", "flush", "set", "inet", NFT_TABLE, "lease"])
