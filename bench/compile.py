"""Build time of lbgen for growing fabrics: 10, 100 and 1000 services over 200 nodes.

Run: .venv/bin/python bench/compile.py   (prints a table; asserts nothing)
Each size is a spec text compiled end to end in memory (parse, checks, plan, render, verify),
then written to a fresh folder (staged and switched in whole: lbgen/output.py), compared again
with nothing changed (what `--check` does), then written again with one service's port changed
(the other files are hard-linked into the new tree); each number is the median of 5 runs."""

from __future__ import annotations

import statistics
import tempfile
import time
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

from lbgen.compiler import compile_text
from lbgen.output import Mode, compare, sync

NODES = 200
SIZES = (10, 100, 1000)
RUNS = 5


def spec_text(services: int) -> str:
    lines = [
        "apiVersion: lbgen.io/v1alpha1",
        "kind: Fabric",
        f"metadata: {{name: bench-{services}}}",
        "spec:",
        "  asn: 64512",
        "  networks: {nodes: 10.0.0.0/16, pods: 172.16.0.0/12}",
        "  routers:",
        "    - {name: edge-a, address: 10.0.0.1, maxPaths: 64}",
        "    - {name: edge-b, address: 10.0.0.2, maxPaths: 64}",
        "  reflectors:",
        "    - {name: rr-a, address: 10.0.0.3}",
        "    - {name: rr-b, address: 10.0.0.4}",
        "  nodes:",
    ]
    base = IPv4Address("10.0.1.0")
    for n in range(NODES):
        rack = n % 8
        lines.append(
            f"    - {{name: node{n:03d}, address: {base + n + 1}, labels: {{rack: r{rack}}}}}"
        )
    lines.append("  services:")
    first = IPv4Network("100.64.0.0/28")
    for s in range(services):
        prefix = IPv4Network((int(first.network_address) + 16 * s, 28))
        lines += [
            f"    - name: svc{s:04d}",
            "      namespace: apps",
            f"      prefix: {prefix}",
            "      ports: [{name: http, port: 80}, {name: https, port: 443}]",
            f"      backend: {{service: backend{s:04d}, port: http}}",
            f"      loadBalancers: {{replicas: {2 + s % 4}}}",
        ]
    return "\n".join(lines) + "\n"


def _median_ms(runs: list[float]) -> float:
    return statistics.median(runs) * 1000


def main() -> None:
    print(
        f"{'services':>8} {'nodes':>6} {'files':>6} {'compile ms':>11} {'first write ms':>15} "
        f"{'no-change check ms':>19} {'one-change write ms':>20}"
    )
    for size in SIZES:
        text = spec_text(size)
        compiled, written, unchanged, rewritten, files = [], [], [], [], 0
        changed = compile_text(
            text.replace("ports: [{name: http, port: 80}", "ports: [{name: http, port: 8080}", 1),
            f"bench-{size}.yaml",
        ).tree
        assert changed is not None
        for _ in range(RUNS):
            start = time.perf_counter()
            result = compile_text(text, f"bench-{size}.yaml")
            compiled.append(time.perf_counter() - start)
            assert result.tree is not None, result.diagnostics[:3]
            files = len(result.tree)
            with tempfile.TemporaryDirectory() as folder:
                out = Path(folder) / "out"
                start = time.perf_counter()
                sync(out, result.tree, "bench", Mode.WRITE)
                written.append(time.perf_counter() - start)
                start = time.perf_counter()
                assert not compare(out, result.tree).stale
                unchanged.append(time.perf_counter() - start)
                start = time.perf_counter()
                sync(out, changed, "bench", Mode.WRITE)
                rewritten.append(time.perf_counter() - start)
        print(
            f"{size:>8} {NODES:>6} {files:>6} {_median_ms(compiled):>11.0f} "
            f"{_median_ms(written):>15.0f} {_median_ms(unchanged):>19.0f} "
            f"{_median_ms(rewritten):>20.0f}"
        )


if __name__ == "__main__":
    main()
