"""What must be there before the testbed starts anything."""

from __future__ import annotations

import shutil
from collections.abc import Collection
from pathlib import Path
from typing import Any

from lbgen.errors import LbgenError
from lbgen.implementations import of_reflector, of_router
from lbgen.implementations.description import Implementation
from lbgen.plan import Plan
from lbgen.testbed.host.netns import reachable_by_everyone
from lbgen.testbed.model.daemons import DAEMONS, FRR


def preflight(plan: Plan, workdir: Path, external: Collection[str] = ()) -> None:
    """What the testbed needs before it starts anything: the daemons each router's and
    reflector's implementation runs (and none the testbed cannot run), a config for each one
    its owners configure (`external`: the routers given one), and a work folder user frr can
    reach."""
    boxes: list[tuple[str, str, Implementation[Any]]] = [
        (f"router {r.name}", r.name, of_router(r)) for r in plan.routers
    ]
    boxes += [(f"reflector {r.name}", r.name, of_reflector(r)) for r in plan.reflectors]
    for what, name, implementation in boxes:
        run = implementation.testbed
        if run.refused:
            raise LbgenError(f"{what} ({implementation.name}): {run.refused}")
        if run.owners and name not in external:
            raise LbgenError(
                f"{what} {implementation.described}: lbgen renders nothing to run on it; give "
                f"the testbed the BIRD config its owners would write from its contract.json "
                f"(--external {name}=FILE)"
            )
    needed = {DAEMONS[d].program for _, _, i in boxes for d in i.testbed.daemons}
    for tool in sorted({"exabgp", *needed}):
        if shutil.which(tool) is None and not (FRR / tool).exists():
            raise LbgenError(f"{tool} is not installed")
    (workdir / "log").mkdir(parents=True, exist_ok=True)
    # zebra and bgpd run as user frr and must reach their folders in here
    workdir.chmod(0o755)
    if not reachable_by_everyone(workdir):
        raise LbgenError(
            f"{workdir}: a parent folder is not searchable by others; "
            "FRR's daemons (user frr) could not reach their files"
        )
