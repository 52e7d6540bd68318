"""Every VM test is here: guest/ runs inside lbgen's VM (a Debian kernel with IPVS, under QEMU)
and is collected only there (LBGEN_IN_VM=1); test_boot.py boots the VM and runs guest/ (what
the guest measures goes to $LBGEN_VM_RESULTS/results.json for it to read); test_recipe.py
checks the VM's recipe without booting it. A testbed takes 200 s to come up under software
emulation: guest/paper/ shares one for all its modules (its conftest), the dual-stack and
IPv6-only fabrics get one per module here."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lbgen.compiler import compile_file
from lbgen.testbed.bed import Testbed
from tests.conftest import ROOT
from tests.support.waiting import wait_for

if os.environ.get("LBGEN_IN_VM") != "1":
    collect_ignore = ["guest"]

Record = Callable[[str, Any], None]  # the `record` fixture: keep a measured value by name
RESULTS = Path(os.environ.get("LBGEN_VM_RESULTS", "/tmp/lbgen-vm-results"))


@pytest.fixture(scope="session")
def record() -> Record:
    """Keep a measured value for the host's report (the numbers in docs/ come from these)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "results.json"

    def keep(name: str, value: Any) -> None:
        found = json.loads(path.read_text()) if path.exists() else {}
        found[name] = value
        path.write_text(json.dumps(found, indent=1, sort_keys=True))

    return keep


def tally(answers: list[dict[str, str]]) -> dict[str, Any]:
    """What the guest records of a batch of answers: how many, per backend, per LB pod."""
    return {
        "requests": len(answers),
        "by_backend": Counter(a["at"] for a in answers),
        "by_lb": Counter(a["peer"] for a in answers),
    }


@pytest.fixture(scope="module")
def dual() -> Iterator[Testbed]:
    """examples/dualstack.yaml, every LB pod whole."""
    yield from testbed_of("dualstack", "d-")


@pytest.fixture(scope="module")
def six() -> Iterator[Testbed]:
    """examples/ipv6.yaml (an IPv6-only cluster), every LB pod whole."""
    yield from testbed_of("ipv6", "s-")


def testbed_of(example: str, prefix: str) -> Iterator[Testbed]:
    """An example's fabric with every LB pod whole: setup, keepalived (real IPVS), exabgp,
    hook, from the LB image; backends answering HTTP; ready by the pods' own probes."""
    result = compile_file(ROOT / f"examples/{example}.yaml", f"examples/{example}.yaml")
    assert result.plan is not None
    assert result.tree is not None
    work = Path(tempfile.mkdtemp(prefix=f"lbgen-vm-{example}-"))
    rootfs = Path(os.environ["LBGEN_VM_ROOTFS"])
    testbed = Testbed(result.plan, result.tree, work, prefix, rootfs=rootfs)
    assert testbed.datapath, "no IPVS in this kernel: these tests run in lbgen's VM"
    try:
        testbed.up()
        wait_for(testbed.see.converged, timeout=180, what="convergence")
        problems = testbed.see.wait_ready(240)
        assert not any(problems.values()), problems
        yield testbed
    finally:
        shutil.copytree(work / "log", RESULTS / f"testbed-log-{example}", dirs_exist_ok=True)
        testbed.down()
        shutil.rmtree(work, ignore_errors=True)
