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


def _argv(entry: str) -> list[str]:
    program, *args = shlex.split(entry)
    beside = Path(sys.executable).with_name(program)
    found = str(beside) if beside.exists() else shutil.which(program)
    assert found, f"{program} is not installed"
    return [found, *args]


def _matched(hook: dict[str, object]) -> list[str]:
    pattern = re.compile(str(hook["files"]))
    files = (p.relative_to(ROOT).as_posix() for p in ROOT.rglob("*.y*ml"))
    return sorted(f for f in files if pattern.search(f) and f.endswith((".yaml", ".yml")))


@pytest.mark.parametrize("hook", HOOKS, ids=[h["id"] for h in HOOKS])
def test_hook_passes_on_this_repository(hook: dict[str, object]) -> None:
    files = _matched(hook)
    assert "examples/paper.yaml" in files
    done = subprocess.run(
        [*_argv(str(hook["entry"])), *files],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("hook", HOOKS, ids=[h["id"] for h in HOOKS])
def test_hook_fails_on_a_broken_spec(hook: dict[str, object], tmp_path: Path) -> None:
    spec = tmp_path / "examples" / "site.yaml"
    spec.parent.mkdir()
    spec.write_text(
        (ROOT / "examples/paper.yaml").read_text().replace("replicas: 3", "replicas: 9")
    )
    done = subprocess.run(
        [*_argv(str(hook["entry"])), "examples/site.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert "error[LB112]" in done.stdout


def test_build_check_hook_fails_when_out_is_stale(tmp_path: Path) -> None:
    hook = next(h for h in HOOKS if h["id"] == "lbgen-build-check")
    (tmp_path / "examples").mkdir()
    shutil.copy(ROOT / "examples/paper.yaml", tmp_path / "examples/paper.yaml")
    done = subprocess.run(
        [*_argv(str(hook["entry"])), "examples/paper.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert "+++ b/out/paper/routers/router/frr.conf" in done.stdout
