"""Built artifacts, made once per test session: the sdist and wheel, and a fresh venv with the
wheel installed (with the runtime extra) where the sources cannot be imported."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT


def tree_of(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    return {**env, **(extra or {})}


@dataclass(frozen=True)
class Installed:
    venv: Path
    home: Path  # a folder outside the source tree, the commands' default working directory

    def lbgen(
        self, *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.venv / "bin/lbgen"), *args],
            cwd=cwd or self.home,
            env=_clean_env(env),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def python(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.venv / "bin/python"), *args],
            cwd=self.home,
            env=_clean_env(),
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )


def _run(argv: list[str], cwd: Path) -> None:
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False, timeout=900)
    assert done.returncode == 0, f"{' '.join(argv)}:\n{done.stdout}\n{done.stderr}"


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`python -m build`: the sdist, then the wheel built from the unpacked sdist."""
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)], out)
    return out


@pytest.fixture(scope="session")
def installed(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    home = tmp_path_factory.mktemp("user")
    venv = home / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], home)
    (wheel,) = dist.glob("lbgen-*.whl")
    pip = [str(venv / "bin/pip"), "install", "-q", "--disable-pip-version-check"]
    _run([*pip, f"{wheel}[runtime]"], home)
    return Installed(venv, home)
