"""Shared test wiring: golden updates, and real tools that must be present when CI=true."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
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


def require_tool(name: str) -> str:
    """The path of a program the test needs; a skip locally, a failure in CI (CI=true)."""
    found = shutil.which(name) or next(
        (str(p) for p in (Path("/usr/sbin") / name, Path("/usr/lib/frr") / name) if p.exists()),
        None,
    )
    if found is None:
        message = f"{name} is not installed (the README's test command installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; with CI=true this test must run, not skip")
        pytest.skip(message)
    return found
