#!/usr/bin/env bash
# Install everything lbgen's tests need (Debian daemons and image tools included) and run the
# whole suite: lint, types, import layers, freshness, the memory limits' headroom, then pytest
# (unit, cases, the real daemons' dry runs, the testbed, and the shipped artifacts: wheel,
# pre-commit hooks, LB image).
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for tool in gobgpd:gobgpd vtysh:frr keepalived:keepalived exabgp:exabgp ipvsadm:ipvsadm \
  nft:nftables ip:iproute2 mmdebstrap:mmdebstrap podman:podman; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || missing+=("${tool##*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
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
timeout 3600 .venv/bin/pytest "$@"
