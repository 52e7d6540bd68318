"""Connections across LB scale events and a rollout through real IPVS, in lbgen's VM (Debian's 6.1
kernel under QEMU): what left CI for its time. tests/vm/guest/paper/test_scale_events.py with
--rounds rounds (CI runs one) and test_rollout.py (on demand only; CI runs the host testbed's
rollout), on one paper testbed: about 10 min under TCG. Prints, per round, each event's
connections broken and survivors moved; the rollout's short connections made and broken (each
broken one's LB, time and client port), the held connections broken per step, and the packets
zebra's route forwarded because router-fib's lease had lapsed. What the guest kept (the
testbed's logs) stays in build/vm-events/.

Run as root: .venv/bin/python -m bench.vm_events [--rounds 3] [--rootfs build/image/rootfs]
(prints numbers; exits 1 when the tests' assertions fail, with them)"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

from lbgen.testbed import vm

ROOT = Path(__file__).resolve().parent.parent
PAPER = ROOT / "tests/vm/guest/paper"
TESTS = [PAPER / "test_scale_events.py", PAPER / "test_rollout.py"]
KEPT = ROOT / "build" / "vm-events"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rootfs", type=Path, default=ROOT / "build/image/rootfs")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of scale events")
    args = parser.parse_args()
    shares = [*vm.python_shares(), vm.Share(ROOT)]
    if not args.rootfs.resolve().is_relative_to(ROOT):
        shares.append(vm.Share(args.rootfs.resolve()))
    with tempfile.TemporaryDirectory(prefix="lbgen-vm-events-") as folder:
        work = Path(folder)
        (work / "results").mkdir()
        boot = vm.boot(
            vm.prepare(),
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *map(str, TESTS)],
            work,
            shares=shares,
            env={
                "LBGEN_IN_VM": "1",
                "LBGEN_VM_ROOTFS": str(args.rootfs.resolve()),
                "LBGEN_VM_RESULTS": "/share/results",
                "LBGEN_VM_ROUNDS": str(args.rounds),
            },
            timeout=1200 + 600 * args.rounds,
        )
        shutil.rmtree(KEPT, ignore_errors=True)
        shutil.copytree(work / "results", KEPT)  # the testbed's logs too, to read afterwards
        (KEPT / "console.log").write_text(boot.console)
        results = KEPT / "results.json"
        if not results.exists():
            print(boot.console[-3000:])
            return 1
        kept = json.loads(results.read_text())
    for event, rows in kept.get("connections_across_scale_events", {}).items():
        print(f"{event}:")
        for n, row in enumerate(rows, start=1):
            print(
                f"  round {n}: {row['broken']} of {row['connections']} broken "
                f"({row['on_removed_lb (minimum broken)']} on the LB that went), "
                f"survivors moved {row['survivors_moved_by_ecmp']}, {row['seconds']} s"
            )
    found = kept.get("connections_across_a_rollout")
    if found is None:
        print(boot.console[-3000:])
        return 1
    short = found["short"]
    print(f"short connections: {short['made']} made, {len(short['broken'])} broken")
    for broken in sorted(short["broken"], key=lambda b: b["opened"]):
        print(f"  at {broken['opened']:7.2f} s  LB {broken['lb'] or '?':15}  port {broken['port']}")
    for step, row in found["held_per_step"].items():
        print(
            f"held across {step}: {row['broken']} of {row['connections']} broken "
            f"({row['on_removed_lb (minimum broken)']} on the leaving LB), "
            f"survivors moved {row['survivors_moved_by_ecmp']}"
        )
    print(f"packets forwarded by zebra's route (the lease lapsed): {found['unleased_packets']}")
    if boot.returncode != 0:
        print(boot.console[-3000:])
    return boot.returncode


if __name__ == "__main__":
    raise SystemExit(main())
