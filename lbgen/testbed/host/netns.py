"""Network-namespace plumbing: `ip` in and around namespaces, veth links onto bridges, and
work done from inside a namespace by a thread of this process (in_netns)."""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from lbgen.errors import LbgenError
from lbgen.testbed.model.shapes import Box


def ip(*argv: str, netns: str | None = None) -> None:
    command = ["ip", *(["-n", netns] if netns else []), *argv]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise LbgenError(f"{' '.join(command)}: {done.stderr.strip()}")


def inside(netns: str, *argv: str) -> list[str]:
    """argv run inside a namespace."""
    return ["ip", "netns", "exec", netns, *argv]


T = TypeVar("T")
CLONE_NEWNET = 0x40000000  # linux/sched.h
NETNS_DIR = Path("/run/netns")  # where `ip netns add` binds each named namespace


def in_netns(netns: str, work: Callable[[], T]) -> T:
    """`work()` run by a thread of this process that entered namespace `netns` first (setns
    moves only the calling thread): a client's request from inside a namespace without a
    process of its own to start, which costs seconds under the VM's emulation. Sockets it
    opens belong to that namespace; what it raises is raised here."""
    done: list[T] = []
    failed: list[BaseException] = []

    def run() -> None:
        try:
            fd = os.open(NETNS_DIR / netns, os.O_RDONLY)
            try:
                if _libc().setns(fd, CLONE_NEWNET) != 0:
                    error = ctypes.get_errno()
                    raise OSError(error, f"setns into {netns}: {os.strerror(error)}")
            finally:
                os.close(fd)
            done.append(work())
        except BaseException as error:  # noqa: BLE001 -- handed to the caller's thread
            failed.append(error)

    thread = threading.Thread(target=run, name=f"in-{netns}", daemon=True)
    thread.start()
    thread.join()
    if failed:
        raise failed[0]
    return done[0]


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def add_netns(name: str) -> None:
    ip("netns", "add", name)
    ip("link", "set", "lo", "up", netns=name)


def delete_netns(name: str) -> None:
    """Delete a namespace and, first, its veth links: the kernel would remove them only when it
    gets round to the namespace, and a new pod may want the same link name at once."""
    shown = subprocess.run(
        ["ip", "-n", name, "-j", "link", "show", "type", "veth"],
        capture_output=True,
        text=True,
        check=False,
    )
    for link in json.loads(shown.stdout or "[]"):
        subprocess.run(
            ["ip", "-n", name, "link", "del", link["ifname"]], capture_output=True, check=False
        )
    subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)


def pids_in(name: str) -> list[int]:
    shown = subprocess.run(
        ["ip", "netns", "pids", name], capture_output=True, text=True, check=False
    )
    return [int(pid) for pid in shown.stdout.split() if pid.isdigit()]


def netns_of(pid: int) -> str:
    """The name of the namespace a process runs in ('' when none of the named ones)."""
    return subprocess.run(
        ["ip", "netns", "identify", str(pid)], capture_output=True, text=True, check=False
    ).stdout.strip()


def add_bridge(
    netns: str, name: str, address: str | None = None, address6: str | None = None
) -> None:
    ip("link", "add", name, "type", "bridge", netns=netns)
    if address is not None:
        ip("addr", "add", address, "dev", name, netns=netns)
    if address6 is not None:
        ip("-6", "addr", "add", address6, "dev", name, "nodad", netns=netns)
    ip("link", "set", name, "up", netns=netns)


def attach(
    outer_netns: str,
    outer: str,
    box: Box,
    *,
    bridge: str | None = None,
    outer_address: str | None = None,
    outer_address6: str | None = None,
) -> None:
    """A veth from `outer_netns` (its end named `outer`, on `bridge` or with its own addresses)
    to the box's eth0, with the box's addresses and routes of each family it has (IPv6
    without duplicate address detection, which would hold them back for seconds)."""
    ip(
        "link",
        "add",
        outer,
        "type",
        "veth",
        "peer",
        "name",
        "eth0",
        "netns",
        box.netns,
        netns=outer_netns,
    )
    if bridge is not None:
        ip("link", "set", outer, "master", bridge, netns=outer_netns)
    if outer_address is not None:
        ip("addr", "add", outer_address, "dev", outer, netns=outer_netns)
    if outer_address6 is not None:
        ip("-6", "addr", "add", outer_address6, "dev", outer, "nodad", netns=outer_netns)
    ip("link", "set", outer, "up", netns=outer_netns)
    if box.address is not None and box.network is not None:
        four = f"{box.address}/{box.network.prefixlen}"
        ip("addr", "add", four, "dev", "eth0", netns=box.netns)
    ip("link", "set", "eth0", "up", netns=box.netns)
    for destination, gateway in box.routes:
        ip("route", "replace", destination, "via", gateway, netns=box.netns)
    if box.address6 is not None and box.network6 is not None:
        six = f"{box.address6}/{box.network6.prefixlen}"
        ip("-6", "addr", "add", six, "dev", "eth0", "nodad", netns=box.netns)
        for destination, gateway in box.routes6:
            ip("-6", "route", "replace", destination, "via", gateway, netns=box.netns)


def set_link(netns: str, link: str, *, up: bool) -> None:
    ip("link", "set", link, "up" if up else "down", netns=netns)


def reachable_by_everyone(folder: Path) -> bool:
    return all(p.stat().st_mode & 0o001 for p in [folder.resolve(), *folder.resolve().parents])


def apply_sysctls(netns: str, settings: dict[str, str]) -> list[str]:
    """Set each sysctl inside a namespace; the keys it refuses (host-only ones)."""
    skipped = []
    for key, value in settings.items():
        done = subprocess.run(
            inside(netns, "sysctl", "-qw", f"{key}={value}"),
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            skipped.append(key)
    return skipped
