"""BGP authentication: passwords are named in the spec and out/, read only where a session
ends (the LB pod's Secret volume, a box's file), and a bad one is refused without being shown."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from lbgen import cli
from lbgen.compiler import compile_file
from lbgen.errors import LbgenError
from lbgen.passwords import MOST_BYTES, read_password
from lbgen.plan import PodConfig
from lbgen.runtime.pod.steps import exabgp_conf
from tests.conftest import ROOT

EDGE = ROOT / "examples/edge.yaml"


def _edge() -> tuple[dict[str, str], PodConfig]:
    result = compile_file(EDGE, "examples/edge.yaml")
    assert result.tree is not None
    config = PodConfig.model_validate_json(result.tree["cluster/services/dns/lb.json"])
    return result.tree, config


@pytest.mark.parametrize(
    "written", [b"S3cret-pw\n", b"S3cret-pw", b"S3cret-pw\r\n"], ids=["lf", "none", "crlf"]
)
def test_a_password_file_is_read_with_its_one_final_newline_dropped(
    tmp_path: Path, written: bytes
) -> None:
    (tmp_path / "pw").write_bytes(written)
    assert read_password(tmp_path / "pw", "x") == "S3cret-pw"


@pytest.mark.parametrize(
    "written",
    [
        b"",
        b"\n",
        b"two words",
        b"semi;colon",
        b"brace}",
        b'quote"',
        b"hash#",
        b"bang!",
        b"back\\slash",
        b"line\nbreak",
        b"caf\xc3\xa9",
        b"x" * (MOST_BYTES + 1),
    ],
)
def test_a_bad_password_is_refused_by_rule_and_never_shown(tmp_path: Path, written: bytes) -> None:
    (tmp_path / "pw").write_bytes(written)
    with pytest.raises(LbgenError) as raised:
        read_password(tmp_path / "pw", "reflector rr-a")
    said = str(raised.value)
    assert said.startswith(f"{tmp_path / 'pw'}: the BGP password of reflector rr-a must be")
    if len(written) > 3:
        assert written.decode(errors="replace").strip() not in said


def test_a_missing_password_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(LbgenError, match=r"/nowhere: cannot read the BGP password of x"):
        read_password(tmp_path / "nowhere", "x")


def test_the_lb_pods_exabgp_reads_each_reflectors_password_from_its_secret_volume(
    tmp_path: Path,
) -> None:
    _, config = _edge()
    folder = tmp_path / "bgp"
    folder.mkdir()
    (folder / "rr-a").write_text("pw-of-rr-a\n")
    (folder / "rr-b").write_text("pw-of-rr-b")
    reflectors = tuple(
        rr.model_copy(update={"password_file": str(folder / rr.name)})
        for rr in config.service.reflectors
    )
    moved = config.model_copy(
        update={"service": config.service.model_copy(update={"reflectors": reflectors})}
    )
    text = exabgp_conf(moved, {"POD_IP": "100.64.1.11", "NODE_IP": "10.20.0.11"})
    assert "neighbor 10.20.0.3 {" in text
    assert text.count("md5-password pw-of-rr-a;") == 1
    assert text.count("md5-password pw-of-rr-b;") == 1
    (folder / "rr-b").unlink()
    with pytest.raises(LbgenError, match=r"bgp/rr-b: cannot read the BGP password"):
        exabgp_conf(moved, {"POD_IP": "100.64.1.11", "NODE_IP": "10.20.0.11"})


def test_the_secret_reaches_exabgps_container_alone_and_out_names_it_only() -> None:
    tree, config = _edge()
    assert [rr.password_file for rr in config.service.reflectors] == [
        "/var/run/secrets/lbgen.io/bgp/rr-a",
        "/var/run/secrets/lbgen.io/bgp/rr-b",
    ]
    spec = YAML(typ="safe").load(tree["cluster/services/dns/deployment.yaml"])["spec"]
    pod = spec["template"]["spec"]
    volume = next(v for v in pod["volumes"] if v["name"] == "bgp-passwords")
    assert volume["projected"]["defaultMode"] == 0o440
    assert volume["projected"]["sources"] == [
        {"secret": {"name": "lbgen-bgp", "items": [{"key": "rr-a", "path": "rr-a"}]}},
        {"secret": {"name": "lbgen-bgp", "items": [{"key": "rr-b", "path": "rr-b"}]}},
    ]
    mounting = [
        c["name"]
        for c in [*pod["initContainers"], *pod["containers"]]
        if any(m["name"] == "bgp-passwords" for m in c["volumeMounts"])
    ]
    assert mounting == ["exabgp"]


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


def test_out_names_password_files_and_secrets_never_a_password() -> None:
    tree, _ = _edge()
    listing = tree["reflectors/rr-b/passwords.json"]
    assert '"file": "/etc/lbgen/bgp/lbs.password"' in listing
    assert not any("password " in text for path, text in tree.items() if "frr.conf" in path)
    assert not any("md5" in text for text in tree.values())


def test_a_password_path_that_is_no_regular_file_is_refused_without_blocking(
    tmp_path: Path,
) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for path in (fifo, tmp_path):
        with pytest.raises(LbgenError, match="must be in a regular file"):
            read_password(path, "x")


def test_box_config_into_a_folder_that_does_not_exist_says_so(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = ROOT / "out/paper/routers/router"
    target = tmp_path / "missing/frr.conf"
    assert cli.main(["box-config", str(folder), "-o", str(target)]) == 2
    said = capsys.readouterr().err
    assert said == f"lbgen: error: {target}: cannot write it (No such file or directory)\n"
