"""Router-fib's loop: follow zebra's routes of the plan's prefixes from the kernel's
route notifications (each carries the whole route), copy them into resilient groups, renew the
lease on a heartbeat, and reconcile everything from listings every few seconds whatever was
reported."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path

from lbgen.errors import LbgenError
from lbgen.plan import RouterFibConfig
from lbgen.runtime.config import read_config
from lbgen.runtime.daemon import Supervised, log_json_lines, until_signalled
from lbgen.runtime.fib import kernel
from lbgen.runtime.fib.groups import (
    Held,
    Hop,
    Network,
    Route,
    batch,
    held,
    owned_by_text,
    wanted,
    zebra_routes,
)
from lbgen.runtime.fib.netlink import Changes, changes, follow
from lbgen.runtime.fib.pins import Pins, flow_marks, held_pins, left, pin_lines

log = logging.getLogger(__name__)
RECONCILE_EVERY = 5.0  # seconds, whatever the kernel reported
COALESCE = 0.002  # seconds to let the rest of one change arrive before looking


@dataclass
class RouterFib:
    config: RouterFibConfig
    owned: dict[str, IPv4Network | IPv6Network] = field(init=False)
    # zebra's routes of the plan's prefixes as last listed and then reported
    zebra: dict[Network, Route] | None = None
    # what the kernel holds of router-fib's after its last batch: a reported change reads
    # nothing; a full round lists zebra's routes and router-fib's own objects again
    cache: Held | None = None
    pins: Pins = field(default_factory=Pins)
    lbs: dict[Hop, int] | None = None  # what its nftables maps hold (None: not known)
    adopted: bool = False  # a restarted router-fib keeps the pins it finds, for a drain from now

    def __post_init__(self) -> None:
        self.owned = owned_by_text([*self.config.prefixes, *self.config.prefixes6])

    def reconcile(self, reported: Changes | None = None) -> None:
        """The groups equal to zebra's routes, from what was `reported` (None: a full round
        from listings), and the members that left them pinned; a failure is logged and retried
        on the next change or round (the lease still falls back if router-fib is stuck)."""
        started = time.monotonic()
        try:
            only: Collection[Network] | None = None  # the prefixes to compare: all
            before = wanted(self.zebra) if self.zebra is not None else None
            if reported is None or reported.relist or self.zebra is None:
                self.zebra = zebra_routes(kernel.zebra_listing(self.config), self.owned)
            else:
                follow(self.zebra, reported.routes)
                only = reported.routes.keys()
            current = wanted(self.zebra)
            if before is not None and self.config.pin_seconds:
                gone = left(before, current, before.keys() if only is None else only)
                self.pins.pin(gone, started, self.config.pin_seconds)
            self.pins.expire(started)
            now = self.cache
            if reported is None or now is None:
                now, only = held(*kernel.own_listing(self.config), self.owned), None
                now.pinned = held_pins(self.config, kernel.rule_listing())
                self._adopt(now, started)
            lines, lines6, now.pinned = pin_lines(
                self.config, now.members, self.pins.until, now.pinned
            )
            groups, self.cache = batch(self.config, current, now, only, self.pins.until.keys())
            lines += groups  # a member is pinned before it leaves its group
            kernel.apply(lines6, "-6")
            kernel.apply(lines)
            if self.config.pin_seconds and self.lbs != self.cache.members:
                kernel.set_lbs(flow_marks(self.config, self.cache.members))
                self.lbs = dict(self.cache.members)
        except kernel.KernelError as error:
            self.zebra = self.cache = self.lbs = None
            log.warning("could not follow zebra's routes: %s", error, extra={"outcome": "failed"})
            return
        if lines or lines6:
            log.info(
                "groups follow zebra: %d change(s)",
                len(lines) + len(lines6),
                extra={"outcome": "changed", "seconds": round(time.monotonic() - started, 4)},
            )

    def _adopt(self, now: Held, started: float) -> None:
        """At its first look, the pins a previous run left are kept for a drain from now."""
        if not self.adopted:
            by_id = {nid: hop for hop, nid in now.members.items()}
            self.pins.pin(
                (by_id[m] for m in now.pinned if m in by_id), started, self.config.pin_seconds
            )
            self.adopted = True


# rtnetlink multicast groups (linux/rtnetlink.h): routes of each family (a nexthop object
# replaced in place is reported as its routes too)
RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE = 7, 11
SOL_NETLINK, NETLINK_ADD_MEMBERSHIP = 270, 1


def _subscribed() -> socket.socket:
    """A netlink socket subscribed to the kernel's route notifications."""
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    sock.bind((0, 0))
    for group in (RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE):
        sock.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, group)
    return sock


@dataclass
class Inbox:
    """What the kernel reported since the loop last looked, merged in order (each message
    carries a route whole, so the last word on a prefix is its state)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    pending: Changes = field(default_factory=Changes)
    wake: threading.Event = field(default_factory=threading.Event)

    def put(self, reported: Changes) -> None:
        if not reported.routes and not reported.relist:
            return  # another table's route (router-fib's own), another prefix
        with self.lock:
            self.pending.routes.update(reported.routes)
            self.pending.relist |= reported.relist
        self.wake.set()

    def take(self) -> Changes:
        with self.lock:
            self.wake.clear()  # under the lock: a change put after the swap wakes the loop again
            taken, self.pending = self.pending, Changes()
        return taken


def _watch(sock: socket.socket, owned: frozenset[Network], followed: int, inbox: Inbox) -> None:
    """Hand each route change the kernel reports for a followed prefix to the loop."""
    with sock:
        while True:
            try:
                data = sock.recv(1 << 20)
            except OSError as error:  # ENOBUFS: messages were lost; only a listing can tell
                log.debug("netlink: %s", error)
                inbox.put(Changes(relist=True))
                time.sleep(0.05)  # never a busy loop, whatever the socket says
                continue
            inbox.put(changes(data, owned, socket.if_indextoname, followed))


def _heartbeat(config: RouterFibConfig, every: float, stopping: threading.Event) -> None:
    """Renew the lease five times a lease, in a thread of its own: a slow reconcile (a loaded
    router, a thousand routes) must not let it run out, or forwarding would flap between the
    groups and zebra's route, moving flows each time."""
    lease = kernel.Lease(config)
    while not stopping.wait(every):
        try:
            lease.renew()
        except kernel.KernelError as error:
            log.warning("could not renew the lease: %s", error)
    lease.close()


def run_router_fib(config_path: Path) -> int:
    config = read_config(config_path, RouterFibConfig, "router-fib config")
    log_json_lines()
    fib = RouterFib(config)
    stopping, inbox = threading.Event(), Inbox()
    # subscribed before the first look: no change can fall between the two (and a router
    # without netlink notifications cannot run it: a clear error, not a silent 5 s lag)
    try:
        sock = _subscribed()
    except OSError as error:
        raise LbgenError(f"cannot follow the kernel's route notifications: {error}") from error
    owned = frozenset(fib.owned.values())
    threads = Supervised(stopping)
    threads.start("watch", lambda: _watch(sock, owned, config.route_protocol, inbox))
    try:
        kernel.rules(config)
        kernel.install_table(config)  # its maps before the groups fill them; no lease yet
        fib.reconcile()  # the groups before the lease (it logs and retries its own failures)
        kernel.start_lease(config)
    except kernel.KernelError as error:  # from the rules or the lease: no nft, no CAP_NET_ADMIN…
        raise LbgenError(f"router-fib cannot start: {error}") from error
    log.info(
        "forwarding %d prefix(es) through resilient groups",
        len(fib.owned),
        extra={"outcome": "started"},
    )
    heartbeat = config.lease_ms / 5000
    threads.start("heartbeat", lambda: _heartbeat(config, heartbeat, stopping))
    reconciled = time.monotonic()

    def tick() -> None:
        nonlocal reconciled
        now = time.monotonic()
        if inbox.wake.is_set():
            time.sleep(COALESCE)  # zebra's group and its routes come a few microseconds apart
        periodic = now - reconciled >= RECONCILE_EVERY
        reported = inbox.take()
        if periodic:
            fib.reconcile()  # from listings: what was reported is in them
            reconciled = now
            if not kernel.lease_held():
                log.warning("the lease is not held: forwarding is zebra's own routes")
        elif reported.routes or reported.relist or fib.pins.ended(now):
            fib.reconcile(reported)

    until_signalled(stopping, every=1.0, tick=tick, wake=inbox.wake)
    threads.join("heartbeat", timeout=5)  # no renewal after the end of the lease
    kernel.end_lease()
    log.info("stopped: forwarding is zebra's own again", extra={"outcome": "stopped"})
    return threads.exit_code
