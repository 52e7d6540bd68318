"""lbgen/boxconfig.py: `lbgen box-config` joins a box's compiled config and the passwords its
passwords.json names (FRR's appended, BIRD's inside each session), and says what is wrong
without writing half a file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lbgen import cli
from tests.conftest import ROOT


def test_box_config_joins_the_compiled_frr_conf_and_the_boxs_password_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "box"
    (root / "etc/lbgen/bgp").mkdir(parents=True)
    (root / "etc/lbgen/bgp/edge-a.password").write_text("pw-a\n")
    (root / "etc/lbgen/bgp/edge-b.password").write_text("pw-b\n")
    (root / "etc/lbgen/bgp/lbs.password").write_text("pw-lbs\n")
    target = tmp_path / "frr.conf"
    target.write_text("old\n")
    if os.geteuid() == 0:
        os.chown(target, 0, 100)
    folder = ROOT / "out/edge/reflectors/rr-a"
    argv = ["box-config", str(folder), "--root", str(root), "-o", str(target)]
    assert cli.main(argv) == 0
    written = target.read_text()
    compiled = (folder / "frr.conf").read_text()
    assert written.startswith(compiled)
    assert written.removeprefix(compiled).splitlines()[2:] == [
        "router bgp 4200000100",
        " neighbor 10.20.0.1 password pw-a",
        " neighbor 10.20.0.2 password pw-b",
        " neighbor lbs-100-64-0-0-16 password pw-lbs",
        "exit",
        "!",
    ]
    assert target.stat().st_mode & 0o777 == 0o640
    if os.geteuid() == 0:
        assert target.stat().st_gid == 100  # FRR's group, as it was
    (root / "etc/lbgen/bgp/lbs.password").write_text("with space\n")
    capsys.readouterr()
    assert cli.main(argv) == 2
    said = capsys.readouterr().err
    assert "lbs.password: the BGP password of neighbour lbs-100-64-0-0-16 must be" in said
    assert "with space" not in said
    assert target.read_text() == written  # nothing half-written


def test_box_config_without_passwords_is_the_compiled_file(
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = ROOT / "out/paper/routers/router"
    assert cli.main(["box-config", str(folder), "-o", "-"]) == 0
    assert capsys.readouterr().out == (folder / "frr.conf").read_text()
    assert cli.main(["box-config", str(ROOT / "out/paper/reflectors/rr"), "-o", "-"]) == 2
    assert "give the out/ folder of a router or reflector whose implementation is frr or bird" in (
        capsys.readouterr().err
    )


def test_box_config_puts_a_bird_routers_password_inside_its_session(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """BIRD takes a password only inside its protocol block: after the `neighbor` line."""
    root = tmp_path / "box"
    (root / "etc/lbgen/bgp").mkdir(parents=True)
    (root / "etc/lbgen/bgp/bird.password").write_text("pw-bird\n")
    folder = ROOT / "out/byo-router/routers/bird"
    assert cli.main(["box-config", str(folder), "--root", str(root), "-o", "-"]) == 0
    written = capsys.readouterr().out.splitlines()
    compiled = (folder / "bird.conf").read_text().splitlines()
    at = written.index("  neighbor 192.168.70.3 as 64700;")
    assert written[at + 1] == '  password "pw-bird";'
    assert written[: at + 1] + written[at + 2 :] == compiled
    assert '"file": "/etc/lbgen/bgp/bird.password"' in (folder / "passwords.json").read_text()
    assert "password" not in "".join(compiled)


def test_box_config_into_a_folder_that_does_not_exist_says_so(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = ROOT / "out/paper/routers/router"
    target = tmp_path / "missing/frr.conf"
    assert cli.main(["box-config", str(folder), "-o", str(target)]) == 2
    said = capsys.readouterr().err
    assert said == f"lbgen: error: {target}: cannot write it (No such file or directory)\n"
