"""Real IPVS (issue 11): this kernel has none, so lbgen's VM boots Debian's 6.1 kernel under
QEMU and runs tests/vm/guest there: the paper's fabric with every LB pod whole (setup, keepalived on
a real IPVS, exabgp, hook, from the LB image), client traffic through IPVS to the backends, one
kernel order on every LB whatever its history, connections across scale events; the
dual-stack and the IPv6-only fabrics forwarded per family. What the guest
measured is kept in build/vm/results.json (docs/testbed.md's numbers)."""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from lbgen.testbed import vm
from tests.conftest import ROOT, require_root, require_tool

pytestmark = pytest.mark.daemons

GUEST_TESTS = ROOT / "tests" / "vm" / "guest"


def test_the_vm_suite_passes_on_a_kernel_with_ipvs(lb_image: Path) -> None:
    require_root("booting the VM and its testbed")
    for tool in ("qemu-system-x86_64", "busybox"):
        require_tool(tool)
    kernel = vm.prepare()
    shares = [*vm.python_shares(), vm.Share(ROOT)]
    if not lb_image.is_relative_to(ROOT):
        shares.append(vm.Share(lb_image))
    kept = ROOT / "build" / "vm"
    shutil.rmtree(kept, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix="lbgen-vm-") as folder:
        work = Path(folder)
        (work / "results").mkdir()
        pytest_argv = [
            *(sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"),
            *("-m", "not on_demand", "--junitxml", "/share/results/junit.xml", str(GUEST_TESTS)),
        ]
        boot = vm.boot(
            kernel,
            pytest_argv,
            work,
            shares=shares,
            env={
                "LBGEN_IN_VM": "1",
                "LBGEN_VM_ROOTFS": str(lb_image),
                "LBGEN_VM_RESULTS": "/share/results",
            },
            timeout=3600,  # 2,160 s under TCG on 2026-12-07 with three rounds and the rollout
        )
        shutil.copytree(work / "results", kept)
        (kept / "console.log").write_text(boot.console)
    assert boot.returncode == 0, boot.console[-6000:]
    suite = ET.parse(kept / "junit.xml").getroot().find("testsuite")  # noqa: S314 -- our guest wrote it
    assert suite is not None
    counts = {k: int(suite.get(k, "0")) for k in ("tests", "failures", "errors", "skipped")}
    assert counts == {"tests": 18, "failures": 0, "errors": 0, "skipped": 0}, counts
    results = json.loads((kept / "results.json").read_text())
    results["vm"] = {"kernel": kernel.version, "seconds": round(boot.seconds, 1)}
    (kept / "results.json").write_text(json.dumps(results, indent=1, sort_keys=True))
