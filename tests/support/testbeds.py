"""A compiled example run as a testbed for one test module: up and converged, then down with
no namespace left behind, whatever the tests did."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from lbgen.compiler import compile_file
from lbgen.plan import Plan
from lbgen.testbed.bed import Testbed
from tests.conftest import ROOT, require_root, require_tool
from tests.support.waiting import wait_for

# an external router's config, as its owners write it: (plan, tree, work folder) → bird.conf
External = Callable[[Plan, dict[str, str], Path], str]


def running(
    example: str,
    prefix: str,
    rootfs: Path,
    timeout: float = 60,
    external: dict[str, External] | None = None,
) -> Iterator[Testbed]:
    """examples/<example>.yaml, its LB pods' containers from the image at `rootfs`; namespaces
    named `<prefix><pid>-…`. `external`: by router name, how its BIRD config is written."""
    require_root("the testbed (network namespaces)")
    for tool in ("gobgpd", "exabgp", "vtysh"):
        require_tool(tool)
    result = compile_file(ROOT / f"examples/{example}.yaml", f"examples/{example}.yaml")
    assert result.plan is not None
    assert result.tree is not None
    # not under pytest's own temp folder, which user frr (zebra, bgpd) cannot enter
    work = Path(tempfile.mkdtemp(prefix=f"lbgen-{example}-"))
    configs = {
        name: write(result.plan, result.tree, work) for name, write in (external or {}).items()
    }
    bed = Testbed(
        result.plan,
        result.tree,
        work,
        f"{prefix}{os.getpid() % 10000}-",
        rootfs=rootfs,
        external=configs,
    )
    try:
        bed.up()
        wait_for(bed.see.converged, timeout=timeout, what="convergence")
        yield bed
    finally:
        bed.down()
        left = subprocess.run(
            ["ip", "netns", "list"], capture_output=True, text=True, check=True
        ).stdout
        assert bed.prefix not in left
        shutil.rmtree(work, ignore_errors=True)


def keepalived_conf(bed: Testbed, lb: str) -> str:
    """The keepalived.conf an LB pod's hook last wrote ("" before its first)."""
    path = bed.workdir / bed.lb(lb).box.netns / "run" / "keepalived.conf"
    return path.read_text() if path.exists() else ""


def virtual_server_written(bed: Testbed, lb: str, virtual_server: str) -> str:
    """An LB pod's keepalived.conf once its hook has written `virtual_server` ("VIP PORT")."""
    wait_for(
        lambda: f"virtual_server {virtual_server}" in keepalived_conf(bed, lb),
        timeout=30,
        what=f"virtual_server {virtual_server} on {lb}",
    )
    return keepalived_conf(bed, lb)
