"""A Debian kernel with IPVS, booted under QEMU (software emulation), for the testbed's real
datapath: this machine's kernel has no ip_vs. The guest's userland is this host's own (/usr and
/etc shared read-only over virtio-9p, plus any folder a run needs at the same path), so the
testbed runs in it exactly as it runs here, with keepalived programming a real IPVS.

Prepared once and cached (LBGEN_VM_CACHE, default /var/cache/lbgen-vm): Debian's newest
`linux-image-6.1.0-N-amd64` (apt-get download, dpkg -x), its uncompressed vmlinux (QEMU boots
the ELF directly: ~3.5 s less of XZ under TCG) and a busybox initramfs with only the modules the
testbed needs. A run: `boot` shares the folders, runs `vm-init.sh` in the guest, which builds a
root from the shares and runs the command in it; its exit status comes back in the work share."""

from __future__ import annotations

import gzip
import hashlib
import lzma
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from lbgen.errors import LbgenError

CACHE = Path(os.environ.get("LBGEN_VM_CACHE", "/var/cache/lbgen-vm"))
INIT_SCRIPT = Path(__file__).with_name("vm-init.sh")
KERNEL_PACKAGE = re.compile(r"^linux-image-(6\.1\.0-\d+-amd64)$")
# 9p first (the shares), then what the testbed's pods and boxes use: IPVS with its schedulers,
# nftables NAT (masquerade, `ct original`), veth, bridges, overlay; crc32c_generic because
# libcrc32c needs a provider and TCG's CPU has no SSE4.2 for crc32c_intel
MODULES = (
    "virtio_pci",
    "9pnet_virtio",
    "9p",
    "crc32c_generic",
    "nf_conntrack",
    "nf_nat",
    "nf_tables",
    "nft_chain_nat",
    "nft_masq",
    "nft_ct",
    "ip_vs",
    "ip_vs_rr",
    "ip_vs_wrr",
    "ip_vs_wlc",
    "ip_vs_sh",
    "ip_vs_mh",
    "veth",
    "bridge",
    "overlay",
)
# the initramfs's own /init: load the modules, mount the work share, hand over to its script
STAGE0 = """#!/bin/sh
export PATH=/bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in {modules}; do modprobe $m || echo "lbgen-vm: modprobe $m failed"; done
mkdir -p /share
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 work /share \\
  || echo "lbgen-vm: no work share"
exec /bin/sh /share/vm-init.sh
"""
# a change of the initramfs's layout invalidates the cached ones
INITRAMFS_FORMAT = "1"


@dataclass(frozen=True)
class Kernel:
    version: str
    vmlinux: Path
    initramfs: Path


@dataclass(frozen=True)
class Share:
    """A host folder seen at the same path in the guest."""

    path: Path
    writable: bool = False


@dataclass(frozen=True)
class Boot:
    returncode: int  # the command's; 124 on a timeout, 125 when the guest never ran it
    console: str
    seconds: float


def _run(argv: Sequence[str], cwd: Path | None = None) -> str:
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise LbgenError(f"{' '.join(argv)}: {(done.stderr or done.stdout).strip()[-500:]}")
    return done.stdout


def abi(version: str) -> int:
    """The ABI number of a 6.1.0-N-amd64 kernel: newer is larger."""
    return int(version.split("-")[1])


def newest_kernel(search: str) -> str | None:
    """The newest 6.1 kernel ABI in `apt-cache search` output."""
    names = (line.split(" ")[0] for line in search.splitlines())
    found = [m.group(1) for name in names if (m := KERNEL_PACKAGE.match(name))]
    return max(found, key=abi, default=None)


def modules_needed(modules_dep: str, wanted: Sequence[str]) -> list[str]:
    """The module files (relative to the kernel's module folder) of `wanted` and their
    dependencies, in modules.dep order: loadable by busybox modprobe in the guest."""
    deps = {}
    for line in modules_dep.splitlines():
        name, _, rest = line.partition(":")
        deps[Path(name).name.removesuffix(".ko")] = [name, *rest.split()]
    files: list[str] = []
    for module in wanted:
        if module not in deps:
            raise LbgenError(f"the kernel has no module {module}")
        files += [f for f in deps[module] if f not in files]
    return files


def vmlinux_of(bzimage: bytes) -> bytes:
    """The ELF kernel inside an XZ-compressed bzImage (as scripts/extract-vmlinux finds it)."""
    magic = b"\xfd7zXZ\x00"
    offset = bzimage.find(magic)
    while offset >= 0:
        try:
            out = lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(bzimage[offset:])
        except lzma.LZMAError:
            out = b""
        if out[:4] == b"\x7fELF":
            return out
        offset = bzimage.find(magic, offset + 1)
    raise LbgenError("no XZ-compressed ELF kernel in the bzImage")


def cached_kernel(cache: Path = CACHE) -> Kernel | None:
    ready = sorted(
        (p for p in cache.glob(f"6.1.0-*-amd64/initramfs-{INITRAMFS_FORMAT}.cpio.gz")),
        key=lambda p: abi(p.parent.name),
    )
    if not ready:
        return None
    folder = ready[-1].parent
    return Kernel(folder.name, folder / "vmlinux", ready[-1])


def prepare(cache: Path = CACHE) -> Kernel:
    """The cached kernel, or Debian's newest 6.1 one fetched, unpacked and cached (~15 s)."""
    found = cached_kernel(cache)
    if found is not None:
        return found
    pattern = r"^linux-image-6\.1\.0-[0-9]+-amd64$"
    version = newest_kernel(_run(["apt-cache", "search", "--names-only", pattern]))
    if version is None:
        _run(["apt-get", "update", "-qq"])
        version = newest_kernel(_run(["apt-cache", "search", "--names-only", pattern]))
    if version is None:
        raise LbgenError("apt knows no linux-image-6.1.0-*-amd64 package (Debian 12's kernel)")
    if shutil.which("busybox") is None:
        raise LbgenError("busybox is not installed (Debian's busybox-static)")
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as scratch:
        work = Path(scratch)
        work.chmod(0o755)
        _run(["apt-get", "download", "-qq", f"linux-image-{version}"], cwd=work)
        deb = next(work.glob("linux-image-*.deb"))
        tree = work / "tree"
        _run(["dpkg-deb", "-x", str(deb), str(tree)])
        _run(["busybox", "depmod", "-b", str(tree), version])
        folder = cache / version
        folder.mkdir(exist_ok=True)
        bzimage = (tree / "boot" / f"vmlinuz-{version}").read_bytes()
        (folder / "vmlinux.new").write_bytes(vmlinux_of(bzimage))
        (folder / "vmlinux.new").replace(folder / "vmlinux")
        initramfs = folder / f"initramfs-{INITRAMFS_FORMAT}.cpio.gz"
        _build_initramfs(tree / "lib" / "modules" / version, version, work / "root", initramfs)
    return Kernel(version, folder / "vmlinux", initramfs)


def _build_initramfs(modules: Path, version: str, root: Path, target: Path) -> None:
    """busybox, the needed modules with their modules.dep, and STAGE0 as /init."""
    for folder in ("bin", "proc", "sys", "dev", "share"):
        (root / folder).mkdir(parents=True)
    busybox = root / "bin" / "busybox"
    shutil.copy(shutil.which("busybox") or "busybox", busybox)
    for applet in ("sh", "mount", "modprobe", "mkdir", "poweroff"):
        (root / "bin" / applet).symlink_to("busybox")
    inside = root / "lib" / "modules" / version
    for relative in modules_needed((modules / "modules.dep").read_text(), MODULES):
        (inside / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(modules / relative, inside / relative)
    for name in ("modules.builtin", "modules.order"):
        shutil.copy(modules / name, inside / name)
    _run(["busybox", "depmod", "-b", str(root), version])
    init = root / "init"
    init.write_text(STAGE0.format(modules=" ".join(MODULES)))
    init.chmod(0o755)
    listing = _run(["find", "."], cwd=root)
    archive = subprocess.run(
        ["busybox", "cpio", "-o", "-H", "newc"],
        cwd=root,
        input=listing.encode(),
        capture_output=True,
        check=True,
    ).stdout
    target.with_suffix(".new").write_bytes(gzip.compress(archive, compresslevel=1, mtime=0))
    target.with_suffix(".new").replace(target)


def python_shares() -> list[Share]:
    """What the guest needs to run this Python with lbgen as installed here: the environment,
    its base interpreter, and lbgen's source (an editable install), unless under /usr already."""
    import lbgen  # noqa: PLC0415 -- only to find where it is installed

    paths = {Path(sys.prefix), Path(sys.base_prefix), Path(lbgen.__file__).resolve().parents[1]}
    return [Share(p) for p in paths if not p.is_relative_to("/usr")]


def distinct(shares: Sequence[Share]) -> list[Share]:
    """Each folder once, none inside another of the same kind (it is seen through that one)."""
    unique = sorted(set(shares), key=lambda s: (str(s.path), s.writable))
    return [
        s
        for s in unique
        if not any(
            o.path != s.path and s.path.is_relative_to(o.path) and o.writable == s.writable
            for o in unique
        )
    ]


def _tag(share: Share) -> str:
    """A 9p mount tag (at most 31 bytes): /usr and /etc by name, the others by a digest."""
    if str(share.path) in ("/usr", "/etc"):
        return share.path.name
    return "s" + hashlib.sha256(str(share.path).encode()).hexdigest()[:16]


def qemu_argv(
    kernel: Kernel, work: Path, shares: Sequence[Share], memory: int, cpus: int
) -> list[str]:
    """QEMU with TCG (KVM hangs on this host; multi-threaded TCG, one host thread a vCPU), no
    NIC: the guest's only links to this host are its console and the 9p shares. The CPU model
    is the x86-64 baseline: with `max` (AVX2 on QEMU 7.2's TCG) glibc and Python take routines
    TCG emulates slower (measured: five imports of the hook 23–28 s against 28–32 s, three
    compiles of the paper's spec 7–10 s against 8–11 s, boots 100–112 s against 122–125 s)."""
    shares = [Share(Path("/usr")), Share(Path("/etc")), *shares]
    argv = [
        "qemu-system-x86_64",
        *("-accel", "tcg", "-cpu", "qemu64", "-m", str(memory), "-smp", str(cpus)),
        *("-nodefaults", "-no-user-config", "-display", "none", "-serial", "stdio"),
        "-no-reboot",
        *("-kernel", str(kernel.vmlinux), "-initrd", str(kernel.initramfs)),
        *("-virtfs", f"local,path={work},mount_tag=work,security_model=none,multidevs=remap"),
    ]
    for share in shares:
        readonly = "" if share.writable else ",readonly=on"
        argv += [
            "-virtfs",
            f"local,path={share.path},mount_tag={_tag(share)},security_model=none,"
            f"multidevs=remap{readonly}",
        ]
    return [*argv, "-append", "console=ttyS0 panic=-1 quiet loglevel=3"]


def boot(
    kernel: Kernel,
    command: Sequence[str],
    work: Path,
    *,
    shares: Sequence[Share] = (),
    env: Mapping[str, str] | None = None,
    timeout: float = 600,
    memory: int = 2048,
    cpus: int = 2,
) -> Boot:
    """Boot the guest and run `command` in it (as root, in a root made of this host's /usr and
    /etc and the shares), with a tmpfs /tmp and /run; its output and exit status come back.
    `work` is the guest's /share, read-write; everything else is the guest's own."""
    if shutil.which("qemu-system-x86_64") is None:
        raise LbgenError("qemu-system-x86_64 is not installed (Debian's qemu-system-x86)")
    work.mkdir(parents=True, exist_ok=True)
    shares = distinct(shares)
    shutil.copy(INIT_SCRIPT, work / "vm-init.sh")
    mounts = "".join(f"{_tag(s)} {s.path} {'rw' if s.writable else 'ro'}\n" for s in shares)
    (work / "mounts").write_text(mounts)
    variables = " ".join(shlex.quote(f"{k}={v}") for k, v in sorted((env or {}).items()))
    (work / "command.sh").write_text(
        f"export {variables}\n" * bool(variables) + " ".join(map(shlex.quote, command)) + "\n"
    )
    (work / "status").unlink(missing_ok=True)
    qemu = qemu_argv(kernel, work, shares, memory, cpus)
    log = work / "console.log"  # as it comes, to follow a long run
    start = time.monotonic()
    with log.open("wb") as console:
        done = subprocess.run(
            ["timeout", "-k", "10", str(int(timeout)), *qemu],
            stdin=subprocess.DEVNULL,
            stdout=console,
            stderr=subprocess.STDOUT,
            check=False,
        )
    seconds = time.monotonic() - start
    status = work / "status"
    if done.returncode == 124:
        code = 124
    elif status.exists():
        code = int(status.read_text().strip() or 125)
    else:
        code = 125
    text = log.read_text(errors="replace")
    return Boot(code, text.replace("\r\n", "\n"), seconds)
