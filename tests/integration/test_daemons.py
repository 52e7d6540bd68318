"""Every rendered file is accepted by the program that consumes it, run for real.

The dry runs that set an exit code here: `gobgpd -d -t yaml -f`, `vtysh -C -f` (not `bgpd -C`,
which exits 0 on errors), `bird -p -c`. sysctl keys must exist in this kernel's /proc/sys,
except the few whose module is not loaded here (ALLOWED_ABSENT)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from lbgen.boxconfig import with_passwords
from lbgen.compiler import compile_file
from lbgen.implementations import JOINS
from lbgen.plan import BoxPasswords
from lbgen.source import Document, parse_document
from lbgen.verify.gobgp import check_families
from lbgen.verify.sysctl import read_sysctl
from tests.conftest import CASES, ROOT, require_tool

pytestmark = pytest.mark.daemons

# resilientEcmp via zebra: FRR master's knob (June 2026), which no Debian FRR has
ZEBRA_RESILIENCE = "zebra nexthop-group resilience "
# keys of modules this kernel lacks (no IPVS here); checked by name against the module's docs
ALLOWED_ABSENT = ("net.ipv4.vs.",)

SPECS = [
    *sorted((ROOT / "examples").glob("*.yaml")),
    *sorted((CASES / "valid").glob("*/spec.yaml")),
]


def _rendered() -> list[tuple[str, str, str]]:
    files = []
    for spec in SPECS:
        result = compile_file(spec, spec.relative_to(ROOT).as_posix())
        assert result.tree is not None, result.diagnostics
        label = spec.parent.name if spec.name == "spec.yaml" else spec.stem
        files += [(f"{label}/{path}", path, text) for path, text in result.tree.items()]
    return files


FILES = _rendered()


def _by_name(name: str) -> list[tuple[str, str, str]]:
    return [f for f in FILES if f[1].endswith(name)]


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)


def _write(tmp_path: Path, path: str, text: str) -> Path:
    target = tmp_path / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target


@pytest.mark.parametrize(
    ("label", "path", "text"), _by_name("gobgpd.yaml"), ids=[f[0] for f in _by_name("gobgpd.yaml")]
)
def test_gobgpd_accepts_every_gobgpd_yaml(label: str, path: str, text: str, tmp_path: Path) -> None:
    gobgpd = require_tool("gobgpd")
    done = _run([gobgpd, "-d", "-t", "yaml", "-f", str(_write(tmp_path, path, text))])
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("label", "path", "text"),
    _by_name("frr.conf") + _by_name("zebra.conf") + _by_name("staticd.conf"),
    ids=[f[0] for f in _by_name("frr.conf") + _by_name("zebra.conf") + _by_name("staticd.conf")],
)
def test_vtysh_accepts_every_frr_config(label: str, path: str, text: str, tmp_path: Path) -> None:
    vtysh = require_tool("vtysh")
    knob = [line for line in text.splitlines() if line.startswith(ZEBRA_RESILIENCE)]
    if knob:
        # FRR 8.4 (Debian's) has no resilience knob in zebra: it refuses that line, and only it
        refused = _run([vtysh, "-C", "-f", str(_write(tmp_path, path, text))])
        assert refused.returncode != 0
        assert f"Unknown command[4]: {knob[0]}" in refused.stdout + refused.stderr
        text = "".join(line for line in text.splitlines(True) if line.strip() not in knob)
    done = _run([vtysh, "-C", "-f", str(_write(tmp_path, path, text))])
    assert done.returncode == 0, done.stdout + done.stderr


def _listing(label: str) -> str | None:
    """The passwords.json beside a rendered frr.conf, if its sessions have passwords."""
    wanted = label.rsplit("/", 1)[0] + "/passwords.json"
    return next((f[2] for f in FILES if f[0] == wanted), None)


def _with_passwords() -> list[tuple[str, str, str]]:
    """FRR configs and BIRD routers' bird.conf whose sessions have passwords."""
    configs = _by_name("frr.conf") + _by_name("/bird.conf")
    return [f for f in configs if _listing(f[0]) is not None]


@pytest.mark.parametrize(
    ("label", "path", "text"), _with_passwords(), ids=[f[0] for f in _with_passwords()]
)
def test_the_daemon_accepts_every_config_with_its_passwords_joined_on_the_box(
    label: str, path: str, text: str, tmp_path: Path
) -> None:
    """As `lbgen box-config` makes it on the box: the compiled file plus its passwords (FRR's
    lines appended, BIRD's inside each session), checked by `vtysh -C` or `bird -p`."""
    bird = path.endswith("bird.conf")
    listing = _listing(label)
    assert listing is not None
    root = tmp_path / "box"
    entries = BoxPasswords.model_validate_json(listing).passwords
    for entry in entries:
        _write(root, entry.file.lstrip("/"), "Pa55.word-" + entry.neighbor[-4:] + "\n")
    joined = with_passwords(text, listing, "passwords.json", root, JOINS[Path(path).name])
    assert joined.count(' password "Pa55.word-' if bird else " password Pa55.word-") == len(entries)
    if bird:
        done = _bird_parses(tmp_path, path, joined)
    else:
        done = _run([require_tool("vtysh"), "-C", "-f", str(_write(tmp_path, path, joined))])
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("label", "path", "text"), _by_name("daemons"), ids=[f[0] for f in _by_name("daemons")]
)
def test_the_frr_daemons_file_is_valid_shell_that_enables_bgpd(
    label: str, path: str, text: str, tmp_path: Path
) -> None:
    target = _write(tmp_path, path, text)
    done = _run(["bash", "-c", f'set -eu; . "{target}"; echo "$bgpd $vtysh_enable $staticd"'])
    assert done.returncode == 0, done.stderr
    # a router's staticd installs its discard routes; a reflector needs none
    staticd = "yes" if "/routers/" in f"/{label}" else "no"
    assert done.stdout.split() == ["yes", "yes", staticd]


@pytest.mark.parametrize(
    ("label", "path", "text"), _by_name("sysctl.conf"), ids=[f[0] for f in _by_name("sysctl.conf")]
)
def test_every_sysctl_key_exists_in_this_kernel(label: str, path: str, text: str) -> None:
    for key, (value, line) in read_sysctl(text).items():
        if key.startswith(ALLOWED_ABSENT):
            continue
        assert Path("/proc/sys", *key.split(".")).exists(), f"{label}:{line}: no sysctl {key}"
        assert value.lstrip("-").isdigit(), f"{label}:{line}: {key} = {value}"


def _bird_parses(tmp_path: Path, path: str, text: str) -> subprocess.CompletedProcess[str]:
    """BIRD's own parse check: `bird -p` reads the config and exits 1 on an error."""
    return _run([require_tool("bird"), "-p", "-c", str(_write(tmp_path, path, text))])


@pytest.mark.parametrize(
    ("label", "path", "text"), _by_name("bird.conf"), ids=[f[0] for f in _by_name("bird.conf")]
)
def test_bird_accepts_every_bird_config(label: str, path: str, text: str, tmp_path: Path) -> None:
    """A BIRD router's bird.conf, and an external router's worked example."""
    done = _bird_parses(tmp_path, path, text)
    assert done.returncode == 0, done.stdout + done.stderr


def test_bird_parse_check_fails_on_a_broken_line(tmp_path: Path) -> None:
    """A negative control: the BIRD check above can fail."""
    _, path, text = _by_name("/bird.conf")[0]
    broken = text.replace("add paths rx;", "add paths sideways;")
    assert broken != text
    assert _bird_parses(tmp_path, path, broken).returncode != 0


def test_vtysh_dry_run_fails_on_a_broken_line(tmp_path: Path) -> None:
    """A negative control: the FRR check above can fail."""
    vtysh = require_tool("vtysh")
    _, path, text = next(f for f in _by_name("frr.conf") if f[1].startswith("routers/"))
    broken = text.replace("maximum-paths ibgp", "maximum-paths ibgp-typo")
    assert broken != text
    done = _run([vtysh, "-C", "-f", str(_write(tmp_path, path, broken))])
    assert done.returncode != 0


def test_gobgpd_dry_run_fails_on_a_wrong_type(tmp_path: Path) -> None:
    """A negative control: the gobgpd check above can fail."""
    gobgpd = require_tool("gobgpd")
    _, path, text = _by_name("gobgpd.yaml")[0]
    broken = re.sub(r"hold-time: \d+", "hold-time: nine", text, count=1)
    assert broken != text
    done = _run([gobgpd, "-d", "-t", "yaml", "-f", str(_write(tmp_path, path, broken))])
    assert done.returncode != 0


@pytest.mark.parametrize(
    ("where", "family", "gobgpd_says"),
    [
        ("peer-group", "ipv4-unicas", 0),
        ("peer-group", "ipv6-unicast", 0),
        ("neighbor", "ipv6-unicast", 0),
        ("neighbor", "ipv4-unicas", 1),
    ],
)
def test_gobgpd_dry_run_lets_wrong_families_through_and_lbgen_stops_them(
    where: str, family: str, gobgpd_says: int, tmp_path: Path
) -> None:
    """Measured with gobgpd 3.10: the dry run checks a neighbour's afi-safi-name but not a
    peer-group's (the one LB pods use), and takes a real but wrong family anywhere."""
    gobgpd = require_tool("gobgpd")
    _, path, text = next(f for f in _by_name("gobgpd.yaml") if f[0].startswith("paper/"))
    head, sep, tail = text.partition("\nneighbors:\n")
    if where == "peer-group":
        head = head.replace("afi-safi-name: ipv4-unicast", f"afi-safi-name: {family}")
    else:
        tail = tail.replace("afi-safi-name: ipv4-unicast", f"afi-safi-name: {family}")
    broken = head + sep + tail
    assert broken != text
    done = _run([gobgpd, "-d", "-t", "yaml", "-f", str(_write(tmp_path, path, broken))])
    assert done.returncode == gobgpd_says, done.stdout
    doc = parse_document(broken, path)
    assert isinstance(doc, Document)
    assert [d.code for d in check_families(doc, ("ipv4-unicast",))] == ["LB206"]
