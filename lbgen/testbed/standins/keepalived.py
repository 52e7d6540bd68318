"""keepalived and IPVS, stood in for on a kernel without IPVS (the testbed on this host): run in
the keepalived container's place, it writes keepalived's pid files, reads keepalived.conf at
start and on each SIGHUP as keepalived would, writes the IPVS table that config would program
(in /proc/net/ip_vs's format, where LBGEN_IPVS_TABLE points the pod's announcer and readiness
probe), and answers HTTP on each TCP VIP:port while it has a real server of weight > 0 — as
IPVS forwards only then. So a pod's announcements follow its hook, pool and keepalived here too;
the VM runs the real ones."""

from __future__ import annotations

import argparse
import os
import signal
import threading
from ipaddress import IPv4Address, IPv6Address, ip_address
from pathlib import Path
from types import FrameType

from lbgen.contract import CHECKERS_PID, KEEPALIVED_CONF_NAME, KEEPALIVED_PID
from lbgen.files import replace_file
from lbgen.runtime.ipvs import Dest, VirtualKey
from lbgen.testbed.standins.backend import Server, serve

Table = dict[VirtualKey, list[tuple[Dest, int]]]
IPVS_NAME = "ip_vs"  # the stand-in's table, beside keepalived.conf in the pod's /run/lbgen


def read_keepalived(text: str) -> Table:
    """The virtual servers of a keepalived.conf lbgen rendered, with their real servers and
    weights (the subset of keepalived's syntax lbgen writes)."""
    table: Table = {}
    vip: tuple[IPv4Address | IPv6Address, int] | None = None
    protocol, servers = "TCP", list[tuple[Dest, int]]()
    dest: Dest | None = None
    for line in text.splitlines():
        words = line.split("!", 1)[0].split()
        if words[:1] == ["virtual_server"] and len(words) >= 3:
            vip, protocol, servers = (ip_address(words[1]), int(words[2])), "TCP", []
        elif words[:1] == ["protocol"] and vip is not None:
            protocol = words[1]
        elif words[:1] == ["real_server"] and vip is not None:
            dest = (ip_address(words[1]), int(words[2]))
        elif words[:1] == ["weight"] and dest is not None:
            servers.append((dest, int(words[1])))
            dest = None
        if vip is not None and line.startswith("}"):
            table[(protocol, *vip)] = servers
            vip = None
    return table


def _endpoint(address: IPv4Address | IPv6Address, port: int) -> str:
    if isinstance(address, IPv4Address):
        return f"{int(address):08X}:{port:04X}"
    return f"[{address.exploded}]:{port:04X}"


def ipvs_text(table: Table) -> str:
    """The table as /proc/net/ip_vs shows it: real servers in the kernel's order (a reload adds
    each at the head, so the reverse of keepalived.conf's)."""
    lines = [
        "IP Virtual Server version 1.2.1 (size=4096)",
        "Prot LocalAddress:Port Scheduler Flags",
        "  -> RemoteAddress:Port Forward Weight ActiveConn InActConn",
    ]
    for (protocol, vip, port), servers in table.items():
        lines.append(f"{protocol}  {_endpoint(vip, port)} mh")
        for (address, target), weight in reversed(servers):
            lines.append(f"  -> {_endpoint(address, target)}      Masq    {weight}      0   0")
    return "\n".join(lines) + "\n"


class StandIn:
    def __init__(self, run: Path, label: str) -> None:
        self.run, self.label = run, label
        self.serving: dict[VirtualKey, Server] = {}
        self.reload = threading.Event()

    def apply(self) -> None:
        try:
            table = read_keepalived((self.run / KEEPALIVED_CONF_NAME).read_text())
        except (OSError, ValueError, IndexError):
            table = {}  # keepalived would keep its old config; so does this stand-in's IPVS
        replace_file(self.run / IPVS_NAME, ipvs_text(table), 0o644)
        live = {key for key, servers in table.items() if any(w > 0 for _, w in servers)}
        for key in set(self.serving) - live:
            server = self.serving.pop(key)
            server.shutdown()
            server.server_close()
        for key in sorted(live - set(self.serving), key=str):
            protocol, vip, port = key
            if protocol == "TCP":
                self.serving[key] = serve(str(vip), port, "vip", self.label)

    def main(self) -> None:
        def hup(_signum: int, _frame: FrameType | None) -> None:
            self.reload.set()

        signal.signal(signal.SIGHUP, hup)
        for pid in (KEEPALIVED_PID, CHECKERS_PID):
            (self.run / pid.name).write_text(f"{os.getpid()}\n", encoding="ascii")
        while True:
            self.apply()
            while not self.reload.wait(0.2):  # a handler cannot safely wake a bare wait()
                pass
            self.reload.clear()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--run", type=Path, required=True, help="the pod's /run/lbgen")
    parser.add_argument("--label", required=True)
    args = parser.parse_args()
    StandIn(args.run, args.label).main()


if __name__ == "__main__":
    main()
