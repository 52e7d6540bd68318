"""The router-fib agent's loop: wake on every route or nexthop change the kernel reports (its
netlink groups), copy zebra's routes of the plan's prefixes into resilient groups, renew the
lease on a heartbeat, and reconcile everything again every few seconds whatever was reported."""

from __future__ import annotations

import logging
import socket
import threading
import time
from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path

from lbgen.errors import LbgenError
from lbgen.plan import RouterFibConfig
from lbgen.runtime.config import read_config
from lbgen.runtime.daemon import log_json_lines, until_signalled
from lbgen.runtime.fib import kernel
from lbgen.runtime.fib.groups import Held, batch, held, owned_by_text, zebra_routes

log = logging.getLogger(__name__)
RECONCILE_EVERY = 5.0  # seconds, whatever the kernel reported
SETTLE = 0.1  # seconds after a reported change, another look
COALESCE = 0.002  # seconds to let the rest of one change arrive before looking


@dataclass
class RouterFib:
    config: RouterFibConfig
    owned: dict[str, IPv4Network | IPv6Network] = field(init=False)
    # what the kernel holds of the agent's after its last batch: a reported change reads only
    # zebra's routes; a full round reads the agent's own objects again too
    cache: Held | None = None

    def __post_init__(self) -> None:
        self.owned = owned_by_text([*self.config.prefixes, *self.config.prefixes6])

    def reconcile(self, full: bool = True) -> None:
        """The groups equal to zebra's routes; a failure is logged and retried on the next
        change or round (the lease still falls back if the agent is stuck)."""
        started = time.monotonic()
        try:
            wanted = zebra_routes(kernel.zebra_listing(self.config), self.owned)
            now = self.cache
            if full or now is None:
                now = held(*kernel.own_listing(self.config), self.owned)
            lines, self.cache = batch(self.config, wanted, now)
            kernel.apply(lines)
        except kernel.KernelError as error:
            self.cache = None
            log.warning("could not follow zebra's routes: %s", error, extra={"outcome": "failed"})
            return
        if lines:
            log.info(
                "groups follow zebra: %d change(s)",
                len(lines),
                extra={"outcome": "changed", "seconds": round(time.monotonic() - started, 4)},
            )


# rtnetlink multicast groups (linux/rtnetlink.h): routes of each family, nexthop objects
RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE, RTNLGRP_NEXTHOP = 7, 11, 32
SOL_NETLINK, NETLINK_ADD_MEMBERSHIP = 270, 1


def _subscribed() -> socket.socket:
    """A netlink socket subscribed to the kernel's route and nexthop notifications."""
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    sock.bind((0, 0))
    for group in (RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE, RTNLGRP_NEXTHOP):
        sock.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, group)
    return sock


def _watch(sock: socket.socket, wake: threading.Event) -> None:
    """Set `wake` whenever the kernel reports a route or nexthop change (the messages are only
    a cue; the state is read afresh)."""
    with sock:
        while True:
            try:
                sock.recv(1 << 16)
            except OSError as error:  # ENOBUFS: messages were lost, which is a cue too
                log.debug("netlink: %s", error)
                time.sleep(0.05)  # never a busy loop, whatever the socket says
            wake.set()


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
    stopping, wake = threading.Event(), threading.Event()
    # subscribed before the first look: no change can fall between the two (and a router
    # without netlink notifications cannot run it: a clear error, not a silent 5 s lag)
    try:
        sock = _subscribed()
    except OSError as error:
        raise LbgenError(f"cannot follow the kernel's route notifications: {error}") from error
    threading.Thread(target=_watch, args=(sock, wake), daemon=True).start()
    try:
        kernel.rules(config)
        fib.reconcile()
        kernel.install_lease(config)
    except kernel.KernelError as error:  # no nft, no nexthop objects, no CAP_NET_ADMIN…
        raise LbgenError(f"router-fib cannot start: {error}") from error
    log.info(
        "forwarding %d prefix(es) through resilient groups",
        len(fib.owned),
        extra={"outcome": "started"},
    )
    heartbeat = config.lease_ms / 5000
    beating = threading.Thread(target=_heartbeat, args=(config, heartbeat, stopping), daemon=True)
    beating.start()
    reconciled = time.monotonic()
    settle: float | None = None  # one more look shortly after a change was reported

    def tick() -> None:
        nonlocal reconciled, settle
        now = time.monotonic()
        reported = wake.is_set()
        if reported:
            time.sleep(COALESCE)  # zebra's group and its routes come a few microseconds apart
        periodic = now - reconciled >= RECONCILE_EVERY
        if reported or periodic or (settle and now >= settle):
            wake.clear()
            # a full round reads the agent's own objects again; a reported change, zebra's only
            fib.reconcile(full=periodic and not reported)
            reconciled = now
            if periodic and not kernel.lease_held():
                log.warning("the lease is not held: forwarding is zebra's own routes")
            # zebra may still be mid-change (a group first, the routes after): look again
            settle = now + SETTLE if reported else None

    until_signalled(stopping, every=SETTLE, tick=tick, wake=wake)
    beating.join(timeout=5)  # no renewal after the end of the lease
    kernel.end_lease()
    log.info("stopped: forwarding is zebra's own again", extra={"outcome": "stopped"})
    return 0
