"""Each hook in .pre-commit-hooks.yaml, run exactly as pre-commit would run its entry."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from tests.conftest import ROOT

HOOKS = YAML(typ="safe").load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
BUILD_CHECK = next(h for h in HOOKS if h["id"] == "lbgen-build-check")


def _run_hook(
    hook: dict[str, object], files: list[str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    program, *args = shlex.split(str(hook["entry"]))
    beside = Path(sys.executable).with_name(program)
    found = str(beside) if beside.exists() else shutil.which(program)
    assert found, f"{program} is not installed"
    return subprocess.run(
        [found, *args, *files], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def _site(tmp_path: Path, old: str = "", new: str = "") -> Path:
    """A repository holding the paper's spec (edited), without its out/."""
    (tmp_path / "examples").mkdir()
    text = (ROOT / "examples/paper.yaml").read_text(encoding="utf-8")
    (tmp_path / "examples/paper.yaml").write_text(text.replace(old, new), encoding="utf-8")
    return tmp_path


def _matched(hook: dict[str, object]) -> list[str]:
    pattern = re.compile(str(hook["files"]))
    files = (p.relative_to(ROOT).as_posix() for p in ROOT.rglob("*.y*ml"))
    return sorted(f for f in files if pattern.search(f) and f.endswith((".yaml", ".yml")))


@pytest.mark.parametrize("hook", HOOKS, ids=[h["id"] for h in HOOKS])
def test_hook_passes_on_this_repository(hook: dict[str, object]) -> None:
    files = _matched(hook)
    assert "examples/paper.yaml" in files
    done = _run_hook(hook, files, ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("hook", HOOKS, ids=[h["id"] for h in HOOKS])
def test_hook_fails_on_a_broken_spec(hook: dict[str, object], tmp_path: Path) -> None:
    done = _run_hook(hook, ["examples/paper.yaml"], _site(tmp_path, "replicas: 3", "replicas: 9"))
    assert done.returncode == 1
    assert "error[LB112]" in done.stdout


def test_build_check_hook_fails_when_out_is_stale(tmp_path: Path) -> None:
    done = _run_hook(BUILD_CHECK, ["examples/paper.yaml"], _site(tmp_path))
    assert done.returncode == 1
    assert "+++ b/out/paper/routers/router/frr.conf" in done.stdout
