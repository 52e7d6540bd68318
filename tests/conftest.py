"""Shared test wiring: golden updates, and real tools that must be present when CI=true."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest

ROOT = Path(__file__).resolve().parent.parent
# how the tests' exabgp.conf runs the announcer (the pod names its own Python: steps.py)
ANNOUNCER = ("/usr/bin/python3", "-m", "lbgen", "pod", "announce", "--config", "/etc/lbgen/lb.json")
CASES = ROOT / "tests" / "cases"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite the expected files of tests/cases from the current output",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


def cannot_run(message: str) -> NoReturn:
    """A test without what it needs: skipped locally, failed in CI (CI=true), never hidden."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}; with CI=true this test must run, not skip")
    pytest.skip(message)


def require_tool(name: str) -> str:
    """The path of a program the test needs (the README's test command installs them all)."""
    found = shutil.which(name) or next(
        (str(p) for p in (Path("/usr/sbin") / name, Path("/usr/lib/frr") / name) if p.exists()),
        None,
    )
    if found is None:
        cannot_run(f"{name} is not installed (the README's test command installs it)")
    return found


def require_root(what: str) -> None:
    if os.geteuid() != 0:
        cannot_run(f"{what} needs root")


@pytest.fixture(scope="session")
def lb_image() -> Path:
    """The LB image's root filesystem, built by image/build.sh (cached across runs)."""
    require_root("building the LB image (chroot, mount)")
    for tool in ("mmdebstrap", "podman"):
        require_tool(tool)
    out = ROOT / "build" / "image"
    done = subprocess.run(
        ["bash", str(ROOT / "image/build.sh"), str(out)],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return out / "rootfs"


@pytest.fixture
def netns(request: pytest.FixtureRequest) -> Iterator[str]:
    """A network namespace of this test's own, deleted afterwards even when the test fails."""
    ip = require_tool("ip")
    require_root("a network namespace")
    name = f"lbgen-test-{os.getpid()}-{abs(hash(request.node.nodeid)) % 100000}"
    subprocess.run([ip, "netns", "add", name], check=True)
    try:
        subprocess.run([ip, "-n", name, "link", "set", "lo", "up"], check=True)
        yield name
    finally:
        subprocess.run([ip, "netns", "del", name], check=False)
