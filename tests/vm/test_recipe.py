"""lbgen's VM, the parts that need no VM: which kernel, which modules, which shares, which
QEMU command, and the ELF inside a bzImage."""

from __future__ import annotations

import lzma
from pathlib import Path

import pytest

from lbgen import cli
from lbgen.errors import LbgenError
from lbgen.testbed import vm
from tests.conftest import ROOT

KERNEL = vm.Kernel("6.1.0-56-amd64", Path("/c/vmlinux"), Path("/c/initramfs-1.cpio.gz"))


def test_the_newest_6_1_kernel_abi_is_taken_numerically() -> None:
    search = (
        "linux-image-6.1.0-9-amd64 - Linux 6.1 for 64-bit PCs (signed)\n"
        "linux-image-6.1.0-56-amd64 - Linux 6.1 for 64-bit PCs (signed)\n"
        "linux-image-6.1.0-56-amd64-dbg - Debug symbols\n"
        "linux-image-6.1.0-56-cloud-amd64 - Linux 6.1 for x86-64 cloud\n"
    )
    assert vm.newest_kernel(search) == "6.1.0-56-amd64"
    assert vm.newest_kernel("") is None


def test_modules_come_with_their_dependencies_once_in_dependency_order() -> None:
    dep = (
        "kernel/net/netfilter/ipvs/ip_vs_mh.ko: kernel/net/netfilter/ipvs/ip_vs.ko "
        "kernel/net/netfilter/nf_conntrack.ko\n"
        "kernel/net/netfilter/ipvs/ip_vs.ko: kernel/net/netfilter/nf_conntrack.ko\n"
        "kernel/net/netfilter/nf_conntrack.ko:\n"
    )
    assert vm.modules_needed(dep, ["ip_vs_mh", "ip_vs"]) == [
        "kernel/net/netfilter/ipvs/ip_vs_mh.ko",
        "kernel/net/netfilter/ipvs/ip_vs.ko",
        "kernel/net/netfilter/nf_conntrack.ko",
    ]
    with pytest.raises(LbgenError, match="no module veth"):
        vm.modules_needed(dep, ["veth"])


def test_the_elf_kernel_is_found_behind_a_false_xz_start() -> None:
    elf = b"\x7fELF" + bytes(100)
    image = b"junk\xfd7zXZ\x00broken" + lzma.compress(elf, format=lzma.FORMAT_XZ)
    assert vm.vmlinux_of(image) == elf
    with pytest.raises(LbgenError, match="no XZ-compressed ELF"):
        vm.vmlinux_of(b"not a kernel")


def test_shares_are_distinct_and_not_nested() -> None:
    shares = [
        vm.Share(Path("/work/main")),
        vm.Share(Path("/work/main")),
        vm.Share(Path("/work/main/build/image/rootfs")),
        vm.Share(Path("/opt/py")),
    ]
    assert vm.distinct(shares) == [vm.Share(Path("/opt/py")), vm.Share(Path("/work/main"))]


def test_qemu_runs_tcg_without_a_nic_sharing_read_only_unless_asked() -> None:
    argv = vm.qemu_argv(
        KERNEL, Path("/tmp/w"), [vm.Share(Path("/opt/py")), vm.Share(Path("/x"), True)], 2048, 2
    )
    joined = " ".join(argv)
    assert "-accel tcg" in joined
    assert "kvm" not in joined
    assert "-nodefaults" in argv  # no NIC: the guest reaches nothing but its shares
    virtfs = [argv[i + 1] for i, a in enumerate(argv) if a == "-virtfs"]
    assert [v.split(",")[1] for v in virtfs] == [
        "path=/tmp/w",
        "path=/usr",
        "path=/etc",
        "path=/opt/py",
        "path=/x",
    ]
    assert [v.endswith("readonly=on") for v in virtfs] == [False, True, True, True, False]
    tags = [v.split("mount_tag=")[1].split(",")[0] for v in virtfs]
    assert len(set(tags)) == len(tags)
    assert all(len(t) <= 31 for t in tags)


def test_the_testbed_in_the_vm_lives_for_one_check(
    capsys: pytest.CaptureFixture[str],
) -> None:
    spec = str(ROOT / "examples" / "paper.yaml")
    assert cli.main(["testbed", "up", spec, "--kernel", "vm"]) == 2
    assert "lives for one boot" in capsys.readouterr().err
