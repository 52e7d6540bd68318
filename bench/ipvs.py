"""Throughput through IPVS as a ratio, in lbgen's VM (a Debian kernel with IPVS under QEMU's
software emulation: absolute numbers mean nothing there, ratios do). The paper's fabric runs
with every LB pod whole; web1's two backends are nginx. wrk from the client behind the router,
for `--seconds` each: to web1's VIP (router → ECMP → node → LB pod → IPVS NAT + masquerade →
backend, and back) and straight to one backend (router → its node → it: a route the bench adds
on the router), keep-alive and a new connection per request, `--runs` times, alternating.

Run as root: .venv/bin/python -m bench.ipvs [--runs 3] [--seconds 10]
(builds nothing: the LB image must be built, `bash image/build.sh build/image`; prints numbers,
asserts nothing)"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from lbgen.compiler import compile_file
from lbgen.testbed import vm
from lbgen.testbed.bed import Testbed
from lbgen.testbed.host.netns import inside

ROOT = Path(__file__).resolve().parent.parent
ROOTFS = ROOT / "build" / "image" / "rootfs"
NGINX = """
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
daemon off;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {folder}/body; proxy_temp_path {folder}/proxy;
  fastcgi_temp_path {folder}/fcgi; uwsgi_temp_path {folder}/uwsgi; scgi_temp_path {folder}/scgi;
  keepalive_requests 1000000;
  server {{ listen {address}:8080; location / {{ return 200 "{name} $remote_addr\\n"; }} }}
}}
"""
KINDS = {"keep-alive": [], "new connection per request": ["-H", "Connection: close"]}


def rate(output: str) -> float:
    found = re.search(r"Requests/sec:\s+([\d.]+)", output)
    return float(found.group(1)) if found else 0.0


def in_vm(runs: int, seconds: int) -> dict[str, list[dict[str, float]]]:
    result = compile_file(ROOT / "examples/paper.yaml", "examples/paper.yaml")
    assert result.plan is not None
    assert result.tree is not None
    work = Path(tempfile.mkdtemp(prefix="lbgen-bench-"))
    bed = Testbed(result.plan, result.tree, work, "bi-", rootfs=ROOTFS)
    measured: dict[str, list[dict[str, float]]] = {kind: [] for kind in KINDS}
    try:
        bed.up()
        if not bed.see.wait_converged(300) or any(bed.see.wait_ready(300).values()):
            raise SystemExit("the testbed did not come up")
        backends = [b for b in bed.layout.backends if b.service == "web1"]
        for backend in backends:
            folder = work / f"nginx-{backend.box.name}"
            folder.mkdir()
            conf = folder / "nginx.conf"
            conf.write_text(
                NGINX.format(folder=folder, address=backend.box.address, name=backend.box.name)
            )
            bed.workloads.replace_backend(
                backend.box.name, ["nginx", "-c", str(conf), "-p", str(folder)]
            )
        direct = backends[0]
        node = next(n.address for n in bed.layout.nodes if n.netns == direct.bridge_netns)
        router = bed.layout.routers[0].netns
        subprocess.run(
            ["ip", "-n", router, "route", "replace", str(direct.box.network), "via", str(node)],
            check=True,
        )
        client = bed.see.client().box.netns
        urls = {"vip": "http://10.1.1.1/", "direct": f"http://{direct.box.address}:8080/"}
        for _ in range(runs):
            for kind, extra in KINDS.items():
                got = {}
                for path, url in urls.items():
                    wrk = ["wrk", "-t1", "-c8", f"-d{seconds}s", *extra, url]
                    done = subprocess.run(
                        inside(client, *wrk), capture_output=True, text=True, check=True
                    )
                    got[path] = rate(done.stdout)
                measured[kind].append(got)
                print(f"{kind}: vip {got['vip']:.0f}/s, direct {got['direct']:.0f}/s", flush=True)
    finally:
        bed.down()
        shutil.rmtree(work, ignore_errors=True)
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--in-vm", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.in_vm:
        print("RESULT " + json.dumps(in_vm(args.runs, args.seconds)), flush=True)
        return
    if not ROOTFS.exists():
        raise SystemExit("no LB image: bash image/build.sh build/image")
    kernel = vm.prepare()
    argv = [sys.executable, "-m", "bench.ipvs", "--in-vm", "--runs", str(args.runs)]
    argv += ["--seconds", str(args.seconds)]
    with tempfile.TemporaryDirectory(prefix="lbgen-vm-") as folder:
        boot = vm.boot(
            kernel,
            ["bash", "-c", f"cd {ROOT} && {' '.join(argv)}"],
            Path(folder),
            shares=[*vm.python_shares(), vm.Share(ROOT)],
            timeout=600 + 8 * args.runs * args.seconds,
        )
    line = next((x for x in boot.console.splitlines() if x.startswith("RESULT ")), None)
    if boot.returncode != 0 or line is None:
        raise SystemExit(f"the VM run failed ({boot.returncode}):\n{boot.console[-3000:]}")
    measured = json.loads(line.removeprefix("RESULT "))
    print(f"kernel {kernel.version} under QEMU TCG, 2 vCPUs; wrk -t1 -c8, {args.seconds} s a run")
    for kind, rows in measured.items():
        ratios = [row["vip"] / row["direct"] for row in rows if row["direct"]]
        shown = ", ".join(f"{r:.2f}" for r in ratios)
        print(
            f"{kind}: through IPVS / direct = {statistics.median(ratios):.2f} median "
            f"({min(ratios):.2f}-{max(ratios):.2f}; runs {shown}); "
            f"vip {statistics.median(r['vip'] for r in rows):.0f}/s, "
            f"direct {statistics.median(r['direct'] for r in rows):.0f}/s"
        )


if __name__ == "__main__":
    main()
