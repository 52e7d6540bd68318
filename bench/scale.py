"""Scale of lbgen's output and build: fabrics of services × nodes (bench.fabric), each built in a
process of its own (its peak RSS is its own), then a least-squares fit of how out/ and the
biggest box config grow: bytes = a·services + b·nodes + c·services·nodes + d.

Run: .venv/bin/python -m bench.scale [--big]   (prints tables; asserts nothing)
--big adds 5,000 services × 1,000 nodes. Per size: the build (parse, checks, plan, render,
verify) in memory, the first write of out/, a `--check` with nothing changed, the files one
service's port change rewrites, out/'s bytes and its biggest box config, and `kubectl kustomize`
of the biggest service folder and of fabric/ (what Argo CD / Flux build per sync), and of all of
cluster/ at the sizes where one build of it finishes in reasonable time."""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.fabric import scale_spec
from lbgen.compiler import compile_text
from lbgen.output import Mode, compare, sync

SIZES = ((100, 100), (300, 300), (1000, 200), (1000, 1000))
BIG = ((5000, 1000),)
WHOLE_CLUSTER_UP_TO = 300  # services: kustomize of all of cluster/ grows with their square
BOXES = ("routers/", "reflectors/")


def _kustomize(folder: Path) -> float | None:
    if shutil.which("kubectl") is None:
        return None
    start = time.perf_counter()
    subprocess.run(["kubectl", "kustomize", str(folder)], check=True, capture_output=True)
    return time.perf_counter() - start


def measure(services: int, nodes: int) -> dict[str, float | int | None]:
    text = scale_spec(services, nodes)
    start = time.perf_counter()
    result = compile_text(text, "scale.yaml")
    built = time.perf_counter() - start
    assert result.tree is not None, result.diagnostics[:3]
    tree = result.tree
    changed = compile_text(text.replace("port: 80}", "port: 8080}", 1), "scale.yaml").tree
    assert changed is not None
    boxes = {p: len(t.encode()) for p, t in tree.items() if p.startswith(BOXES)}
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "out"
        start = time.perf_counter()
        sync(out, tree, "scale", Mode.WRITE)
        written = time.perf_counter() - start
        start = time.perf_counter()
        assert not compare(out, tree).stale
        checked = time.perf_counter() - start
        biggest = max(
            (p for p in tree if p.startswith("cluster/services/")), key=lambda p: len(tree[p])
        ).rsplit("/", 1)[0]
        service_s = _kustomize(out / biggest)
        fabric_s = _kustomize(out / "cluster/fabric")
        whole_s = _kustomize(out / "cluster") if services <= WHOLE_CLUSTER_UP_TO else None
    return {
        "services": services,
        "nodes": nodes,
        "files": len(tree),
        "build_s": built,
        "write_s": written,
        "check_s": checked,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "out_bytes": sum(len(t.encode()) for t in tree.values()),
        "box_bytes": max(boxes.values()),
        "rewritten": sum(1 for p in tree.keys() | changed.keys() if tree.get(p) != changed.get(p)),
        "kustomize_service_s": service_s,
        "kustomize_fabric_s": fabric_s,
        "kustomize_cluster_s": whole_s,
    }


def _fit(rows: list[dict[str, float | int | None]], key: str) -> tuple[float, ...]:
    """Least squares of row[key] over (services, nodes, services·nodes, 1): normal equations."""
    xs = [
        (float(r["services"]), float(r["nodes"]), float(r["services"]) * float(r["nodes"]), 1.0)  # type: ignore[arg-type]
        for r in rows
    ]
    ys = [float(r[key]) for r in rows]  # type: ignore[arg-type]
    n = 4
    a = [
        [sum(x[i] * x[j] for x in xs) for j in range(n)]
        + [sum(x[i] * y for x, y in zip(xs, ys, strict=True))]
        for i in range(n)
    ]
    for col in range(n):  # Gauss-Jordan with partial pivoting
        pivot = max(range(col, n), key=lambda r: abs(a[r][col]))
        a[col], a[pivot] = a[pivot], a[col]
        if a[col][col] == 0:
            continue
        a[col] = [v / a[col][col] for v in a[col]]
        for r in range(n):
            if r != col:
                a[r] = [v - a[r][col] * w for v, w in zip(a[r], a[col], strict=True)]
    return tuple(a[i][n] for i in range(n))


def main() -> None:
    sizes = SIZES + (BIG if "--big" in sys.argv else ())
    if "--one" in sys.argv:
        services, nodes = (int(v) for v in sys.argv[sys.argv.index("--one") + 1 :][:2])
        print(json.dumps(measure(services, nodes)))
        return
    rows = []
    for services, nodes in sizes:
        done = subprocess.run(
            [sys.executable, "-m", "bench.scale", "--one", str(services), str(nodes)],
            check=True,
            capture_output=True,
            text=True,
        )
        rows.append(json.loads(done.stdout))
    print(
        f"{'services':>8} {'nodes':>6} {'files':>6} {'build s':>8} {'write s':>8} {'check s':>8} "
        f"{'RSS MB':>7} {'out/ MB':>8} {'box MB':>7} {'1 port: files':>13} "
        f"{'kust. service s':>15} {'kust. fabric s':>14} {'kust. cluster s':>15}"
    )

    def secs(value: object) -> str:
        return "-" if value is None else f"{value:.2f}"

    for r in rows:
        print(
            f"{r['services']:>8} {r['nodes']:>6} {r['files']:>6} {r['build_s']:>8.2f} "
            f"{r['write_s']:>8.2f} {r['check_s']:>8.2f} {r['rss_mb']:>7.0f} "
            f"{r['out_bytes'] / 1e6:>8.1f} {r['box_bytes'] / 1e6:>7.2f} {r['rewritten']:>13} "
            f"{secs(r['kustomize_service_s']):>15} {secs(r['kustomize_fabric_s']):>14} "
            f"{secs(r['kustomize_cluster_s']):>15}"
        )
    print("\nfit: value = a·services + b·nodes + c·services·nodes + d")
    for key, unit, scale in (
        ("out_bytes", "bytes", 1.0),
        ("box_bytes", "bytes", 1.0),
        ("build_s", "ms", 1000.0),
    ):
        a, b, c, d = (v * scale for v in _fit(rows, key))
        print(f"  {key:<10} a={a:,.1f} b={b:,.1f} c={c:,.4f} d={d:,.0f} ({unit})")


if __name__ == "__main__":
    main()
