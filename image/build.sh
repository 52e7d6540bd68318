#!/usr/bin/env bash
# Build lbgen's LB image (spec.kubernetes.image) from Debian's packages, without pulling a base
# image: mmdebstrap makes a bookworm root filesystem with keepalived, exabgp, ipvsadm, iproute2,
# nftables and python3; lbgen's wheel (built here) goes into /opt/lbgen with its runtime extra;
# `podman import` packs it as an image and `podman save` writes an OCI archive.
#
#   image/build.sh [OUTDIR]          default OUTDIR: build/image
#
# OUTDIR gets rootfs/ (the unpacked image, which the testbed runs LB pods in), lbgen.oci.tar
# and image.env (IMAGE=, SIZE_MB=). The Debian base is cached in $LBGEN_IMAGE_CACHE (default
# /var/cache/lbgen-image) by its package list; the whole image is rebuilt only when lbgen's
# sources, pyproject.toml or this script change. Needs root, mmdebstrap and podman (Debian).
# Push: podman push "$IMAGE" docker://<registry>/lbgen:<version>, then set spec.kubernetes.image.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "${1:-$root/build/image}" && cd "${1:-$root/build/image}" && pwd)
cache=${LBGEN_IMAGE_CACHE:-/var/cache/lbgen-image}
version=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' "$root/lbgen/__init__.py")
image=${LBGEN_IMAGE:-localhost/lbgen:$version}
suite=bookworm
packages=(keepalived exabgp ipvsadm iproute2 nftables python3 python3-venv ca-certificates)
# the same user the Deployment's non-root containers run as (lbgen.contract.NON_ROOT_UID)
uid=65532

for tool in mmdebstrap podman; do
  command -v "$tool" >/dev/null || { echo "image/build.sh: $tool is not installed (apt-get install $tool)" >&2; exit 2; }
done
[ "$(id -u)" -eq 0 ] || { echo "image/build.sh: run as root (chroot, mount)" >&2; exit 2; }

key=$(
  cd "$root" && {
    printf '%s\n' "$suite" "${packages[@]}" "$image"
    find lbgen -type f -not -path '*/__pycache__/*' -print0 | sort -z | xargs -0 sha256sum
    sha256sum pyproject.toml README.md image/build.sh
  } | sha256sum | cut -c1-16
)
if [ -f "$out/image.env" ] && grep -qx "KEY=$key" "$out/image.env" && [ -x "$out/rootfs/opt/lbgen/bin/lbgen" ]; then
  echo "image/build.sh: $image is up to date in $out"
  exit 0
fi

mkdir -p "$cache"
base_key=$(printf '%s\n' "$suite" "${packages[@]}" essential-nodocs-1 | sha256sum | cut -c1-16)
base="$cache/base-$base_key.tar"
if [ ! -s "$base" ]; then
  echo "image/build.sh: Debian $suite base with ${packages[*]} (cached as $base)"
  mmdebstrap --quiet --variant=essential --include="$(IFS=,; echo "${packages[*]}")" \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    "$suite" "$base.partial.tar"
  mv "$base.partial.tar" "$base"
fi

work=$(mktemp -d "$out/.build.XXXXXX")
trap 'rm -rf "$work"' EXIT
python3 -m pip wheel --quiet --disable-pip-version-check --no-deps --wheel-dir "$work/wheels" "$root" >/dev/null
wheel=$(cd "$work/wheels" && ls lbgen-*.whl)
# the dependencies as wheels for the image's python3 (Debian's 3.11), fetched by this host's pip
python3 -m pip download --quiet --disable-pip-version-check --dest "$work/wheels" \
  --only-binary=:all: --implementation cp --python-version 3.11 --abi cp311 \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
  "$work/wheels/$wheel[runtime]" 2>&1 >/dev/null | { grep -v "^WARNING: Location" >&2 || true; }
rootfs="$work/rootfs"
mkdir "$rootfs"
tar -C "$rootfs" -xf "$base"
mkdir -p "$rootfs/tmp/wheels"
cp "$work"/wheels/*.whl "$rootfs/tmp/wheels/"
# the image's own python3 installs them, offline, with none of this host's pip settings
unshare --mount --fork sh -euc '
  rootfs=$1 wheel=$2
  mount -t proc proc "$rootfs/proc"
  mount --rbind /dev "$rootfs/dev"
  chroot "$rootfs" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin sh -euc "
    python3 -m venv /opt/lbgen
    /opt/lbgen/bin/pip install --quiet --disable-pip-version-check --no-cache-dir --no-index \
      --find-links /tmp/wheels /tmp/wheels/$wheel[runtime]
    /opt/lbgen/bin/pip uninstall --quiet --yes pip setuptools"
' sh "$rootfs" "$wheel"
ln -sf /opt/lbgen/bin/lbgen "$rootfs/usr/local/bin/lbgen"
echo "lbgen:x:$uid:$uid:lbgen:/nonexistent:/usr/sbin/nologin" >>"$rootfs/etc/passwd"
echo "lbgen:x:$uid:" >>"$rootfs/etc/group"
# the pod's volumes mount here (lbgen.contract CONFIG_DIR, NODES_DIR, RUN_DIR,
# SERVICE_ACCOUNT_DIR; the image's /var/run is a link to /run)
mkdir -p "$rootfs/etc/lbgen" "$rootfs/etc/lbgen-nodes" "$rootfs/run/lbgen" "$rootfs/run/secrets/kubernetes.io/serviceaccount" \
  "$rootfs/run/secrets/lbgen.io/bgp"
rm -rf "$rootfs/tmp/wheels" "$rootfs"/var/cache/apt/* "$rootfs"/var/lib/apt/lists/*

tar -C "$rootfs" --numeric-owner -cf "$work/rootfs.tar" .
podman import --quiet --change "USER $uid" --change 'ENTRYPOINT ["lbgen"]' \
  --change "LABEL org.opencontainers.image.version=$version" "$work/rootfs.tar" "$image" >/dev/null
rm -f "$work/lbgen.oci.tar"
podman save --quiet --format oci-archive -o "$work/lbgen.oci.tar" "$image"

rm -rf "$out/rootfs" "$out/lbgen.oci.tar"
mv "$rootfs" "$out/rootfs"
mv "$work/lbgen.oci.tar" "$out/lbgen.oci.tar"
size=$(du -sm "$out/rootfs" | cut -f1)
printf 'IMAGE=%s\nSIZE_MB=%s\nKEY=%s\n' "$image" "$size" "$key" >"$out/image.env"
echo "image/build.sh: $image: ${size} MB unpacked, $(du -m "$out/lbgen.oci.tar" | cut -f1) MB as $out/lbgen.oci.tar"
