#!/usr/bin/env bash
# Install everything lbgen's tests need (Debian daemons and image tools included) and run the
# whole suite: lint, types, import layers, freshness, the memory limits' headroom, then pytest
# (unit, cases, the real daemons' dry runs, the testbed, and the shipped artifacts: wheel,
# pre-commit hooks, LB image).
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
# (qemu-system-x86, busybox-static, nginx, wrk: the VM with a kernel that has IPVS, and its bench;
# prometheus: promtool checks the alert rules; bird2: the BIRD router and the external router's
# stand-in)
for tool in gobgpd:gobgpd vtysh:frr keepalived:keepalived exabgp:exabgp ipvsadm:ipvsadm bird:bird2 \
  nft:nftables ip:iproute2 mmdebstrap:mmdebstrap podman:podman \
  qemu-system-x86_64:qemu-system-x86 busybox:busybox-static nginx:nginx wrk:wrk \
  promtool:prometheus; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || missing+=("${tool##*:}")
done
# frr-reload.py (bench.boxes applies a one-service change to a running FRR with it)
[ -e /usr/lib/frr/frr-reload.py ] || missing+=(frr-pythontools)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  # nginx only runs inside the testbed, prometheus not at all: keep their packages from starting
  # them on this host
  made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee /usr/sbin/policy-rc.d >/dev/null
    as_root chmod 755 /usr/sbin/policy-rc.d
    made_policy=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  if [ "$made_policy" = 1 ]; then as_root rm -f /usr/sbin/policy-rc.d; fi
fi

python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -e '.[test]' 2>&1 | { grep -v '^WARNING: Location' || true; }

.venv/bin/ruff check lbgen tests bench
.venv/bin/mypy
.venv/bin/lint-imports
.venv/bin/lbgen schema --check
for spec in examples/*.yaml; do .venv/bin/lbgen build "$spec" --check; done
if [ "$(id -u)" -eq 0 ]; then
  timeout 600 .venv/bin/python -m bench.memory --check
fi
timeout 4800 .venv/bin/pytest --durations=25 "$@"
