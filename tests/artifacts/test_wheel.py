"""The package as users install it: sdist and wheel built from this tree, the wheel installed
into a fresh venv that cannot see the sources, then run. (A green suite over an editable install
once hid a wheel without its templates.)"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from lbgen.runtime.pod.facts import read_pod_config
from lbgen.runtime.pod.steps import exabgp_conf
from lbgen.testbed.model.slices import endpoint, endpoint_slice
from lbgen.testbed.standins.apiserver import served_apart
from tests.artifacts.conftest import Installed, tree_of
from tests.conftest import ROOT, require_tool

pytestmark = pytest.mark.artifacts

EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
# every file beside the code that it reads at run time: templates, and the VM guest's script
TEMPLATES = sorted(
    [
        *(p.relative_to(ROOT).as_posix() for p in (ROOT / "lbgen/render/templates").rglob("*.j2")),
        "lbgen/testbed/vm/vm-init.sh",
    ]
)


def test_the_sdist_and_the_wheel_carry_every_template(dist: Path) -> None:
    (sdist,) = dist.glob("lbgen-*.tar.gz")
    (wheel,) = dist.glob("lbgen-*.whl")
    with tarfile.open(sdist) as archive:
        in_sdist = {name.partition("/")[2] for name in archive.getnames()}
    with zipfile.ZipFile(wheel) as archive:
        in_wheel = set(archive.namelist())
    assert TEMPLATES
    assert set(TEMPLATES) <= in_sdist
    assert set(TEMPLATES) <= in_wheel


def test_the_installed_lbgen_is_the_wheel_not_this_tree(installed: Installed) -> None:
    where = installed.python("-c", "import lbgen; print(lbgen.__file__)").stdout.strip()
    assert where.startswith(str(installed.venv)), where


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_the_wheel_builds_each_example_byte_for_byte_as_committed(
    installed: Installed, example: Path, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    (site / ".git").mkdir(parents=True)
    (site / "examples").mkdir()
    shutil.copy(example, site / "examples" / example.name)
    done = installed.lbgen("build", f"examples/{example.name}", cwd=site)
    assert done.returncode == 0, done.stderr
    fabric = next((site / "out").iterdir()).name
    assert tree_of(site / "out" / fabric) == tree_of(ROOT / "out" / fabric)


def test_the_wheel_renders_the_pods_exabgp_conf(installed: Installed) -> None:
    lb_json = ROOT / "out/paper/cluster/services/web1/lb.json"
    env = {"POD_IP": "172.16.4.10", "NODE_IP": "10.0.0.104"}
    done = installed.lbgen("pod", "exabgp", "--render-only", "--config", str(lb_json), env=env)
    assert done.returncode == 0, done.stderr
    # exabgp runs the announcer with the Python that rendered the file: the wheel's own
    found = re.search(r"^    run (\S+) -m lbgen pod announce ", done.stdout, re.MULTILINE)
    assert found is not None, done.stdout
    assert Path(found[1]).is_relative_to(installed.venv), found[1]
    expected = exabgp_conf(read_pod_config(lb_json), env, lb_json)
    assert done.stdout == expected.replace(f"run {sys.executable} ", f"run {found[1]} ")


def test_the_wheel_joins_a_boxs_frr_conf_and_its_password_files(
    installed: Installed, tmp_path: Path
) -> None:
    """`lbgen box-config` as a router or reflector box runs it: the compiled frr.conf plus the
    password lines (frr/passwords.conf.j2 must ship)."""
    root = tmp_path / "box"
    (root / "etc/lbgen/bgp").mkdir(parents=True)
    for name in ("edge-a", "edge-b", "lbs"):
        (root / f"etc/lbgen/bgp/{name}.password").write_text(f"pw-{name}\n")
    folder = ROOT / "out/edge/reflectors/rr-a"
    done = installed.lbgen("box-config", str(folder), "--root", str(root), "-o", "-")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith((folder / "frr.conf").read_text())
    assert " neighbor lbs-100-64-0-0-16 password pw-lbs\n" in done.stdout


@pytest.fixture
def api_server(installed: Installed) -> Iterator[str]:
    """The stand-in API server, run by the wheel's Python, serving two web1 backends."""
    slices = [endpoint_slice("nginx1-a", [endpoint("172.16.1.5"), endpoint("172.16.2.7")])]
    objects = {"endpointslices": slices, "services": []}
    with served_apart(objects, python=str(installed.venv / "bin/python")) as url:
        yield url


def test_the_wheels_hook_fills_keepalived_conf_once(
    installed: Installed, api_server: str, tmp_path: Path
) -> None:
    require_tool("keepalived")
    conf = tmp_path / "keepalived.conf"
    env = {
        "LBGEN_HOOK_KEEPALIVED_CONF": str(conf),
        "LBGEN_HOOK_KEEPALIVED_PID": str(tmp_path / "no-keepalived.pid"),
        "PATH": f"/usr/sbin:{os.environ.get('PATH', '')}",
    }
    config = ROOT / "out/paper/cluster/services/web1/lb.json"
    done = installed.lbgen(
        "hook", "--once", "--config", str(config), "--api-server", api_server, env=env
    )
    assert done.returncode == 0, done.stderr
    text = conf.read_text()
    assert "real_server 172.16.1.5 8080" in text
    assert "real_server 172.16.2.7 8080" in text
