"""A rogue BGP speaker in a testbed: an exabgp in a pod of its own on a node's pod network,
dialling a reflector with whatever routes (and password) a test gives it."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lbgen.runtime.pod.steps import exabgp_env
from lbgen.testbed.bed import Testbed

ROGUE_HOST = 99  # its address in the node's pod subnet


@contextmanager
def rogue_speaker(
    testbed: Testbed,
    routes: list[str],
    folder: Path,
    node: str,
    *,
    reflector: int = 0,
    password: str | None = None,
) -> Iterator[str]:
    """Announce `routes` to the `reflector`-th reflector; yields the rogue's address."""
    address = dict(testbed.layout.pod_subnets)[node].network_address + ROGUE_HOST
    md5 = f"    md5-password {password};\n" if password else ""
    conf = folder / "rogue.conf"
    conf.write_text(
        f"neighbor {testbed.layout.reflectors[reflector].address} {{\n"
        f"    router-id {address};\n    local-address {address};\n"
        f"    local-as {testbed.plan.asn};\n    peer-as {testbed.plan.asn};\n{md5}"
        "    family { ipv4 unicast; }\n    static {\n"
        + "".join(f"        route {r};\n" for r in routes)
        + "    }\n}\n"
    )
    process = None
    rogue = f"{testbed.prefix}rogue"
    try:
        testbed.net.add_pod("rogue", node, address)
        with (folder / "rogue.log").open("wb") as log:
            process = subprocess.Popen(
                ["ip", "netns", "exec", rogue, "exabgp", str(conf)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **exabgp_env("root"), "exabgp.log.destination": "stdout"},
            )
        yield str(address)
    finally:
        if process is not None:
            process.kill()
            process.wait()
        testbed.net.remove_pod(rogue)


def vtysh_json(testbed: Testbed, netns: str, command: str) -> Any:
    """What an FRR box of the testbed answers to a `show ... json` command."""
    shown = subprocess.run(
        [
            *("ip", "netns", "exec", netns, "vtysh"),
            *("--vty_socket", str(testbed.workdir / netns), "-c", command),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(shown or "{}")


def router_paths(testbed: Testbed, prefix: str, router: int = 0) -> list[dict[str, Any]]:
    """The BGP paths of `prefix` (either family) in a router's table."""
    family = "ipv6" if ":" in prefix else "ipv4"
    shown = vtysh_json(
        testbed, testbed.layout.routers[router].netns, f"show bgp {family} unicast {prefix} json"
    )
    paths: list[dict[str, Any]] = shown.get("paths", [])
    return paths


def bird_routes(testbed: Testbed, router: str, prefix: str) -> str:
    """What BIRD on a testbed router shows of `prefix`: every path, with its attributes."""
    box = next(b for b in testbed.layout.routers if b.name == router)
    return subprocess.run(
        [
            *("ip", "netns", "exec", box.netns, "birdc"),
            *("-s", str(testbed.workdir / box.netns / "bird.ctl")),
            *("show", "route", "for", prefix, "all"),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
