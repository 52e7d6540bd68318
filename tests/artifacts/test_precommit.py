"""The hooks as pre-commit users get them: the real `pre-commit` (pinned in the test extras)
in a throwaway repository whose .pre-commit-config.yaml points at this repository at HEAD.
pre-commit installs lbgen from that commit into its own environment, core dependencies only."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.artifacts

HOOK_IDS = ("lbgen-validate", "lbgen-build-check")
# a file pre-commit hands the hooks (it matches examples/) that is not an lbgen Fabric
KUSTOMIZATION = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n"


def _git(*args: str, cwd: Path) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pre-commit's cache, shared by this module's tests: the hook environment is built once."""
    return tmp_path_factory.mktemp("pre-commit-home")


def _site(tmp_path: Path, *, edit: tuple[str, str] = ("", ""), built: bool = True) -> Path:
    site = tmp_path / "site"
    (site / "examples").mkdir(parents=True)
    _git("init", "-q", cwd=site)
    text = (ROOT / "examples/paper.yaml").read_text(encoding="utf-8")
    (site / "examples/paper.yaml").write_text(text.replace(*edit), encoding="utf-8")
    (site / "examples/kustomization.yaml").write_text(KUSTOMIZATION, encoding="utf-8")
    if built:
        shutil.copytree(ROOT / "out/paper", site / "out/paper")
    hooks = "".join(f"      - id: {hook}\n" for hook in HOOK_IDS)
    (site / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {ROOT}\n    rev: {_git('rev-parse', 'HEAD', cwd=ROOT)}\n"
        f"    hooks:\n{hooks}",
        encoding="utf-8",
    )
    _git("add", "-A", cwd=site)
    return site


def _pre_commit(site: Path, home: Path) -> subprocess.CompletedProcess[str]:
    program = Path(sys.executable).with_name("pre-commit")
    return subprocess.run(
        [str(program), "run", "--all-files", "--color", "never"],
        cwd=site,
        env={"PRE_COMMIT_HOME": str(home), "PATH": "/usr/bin:/bin", "HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def _verdicts(output: str) -> dict[str, str]:
    """'lbgen validate....Passed' lines → {hook name: Passed|Failed}."""
    found = {}
    for line in output.splitlines():
        for verdict in ("Passed", "Failed"):
            if line.startswith("lbgen") and line.endswith(verdict):
                found[line.split(".")[0].strip()] = verdict
    return found


def test_both_hooks_pass_on_a_good_spec_beside_a_kustomization(home: Path, tmp_path: Path) -> None:
    done = _pre_commit(_site(tmp_path), home)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _verdicts(done.stdout) == {
        "lbgen validate": "Passed",
        "lbgen build --check": "Passed",
    }


def test_both_hooks_fail_on_a_bad_spec_with_file_line_col(home: Path, tmp_path: Path) -> None:
    done = _pre_commit(_site(tmp_path, edit=("replicas: 3", "replicas: 9")), home)
    assert done.returncode == 1
    assert _verdicts(done.stdout) == {
        "lbgen validate": "Failed",
        "lbgen build --check": "Failed",
    }
    assert done.stdout.count("examples/paper.yaml:47:19: error[LB112]") == 2, done.stdout


def test_build_check_fails_on_a_stale_out_and_validate_passes(home: Path, tmp_path: Path) -> None:
    site = _site(tmp_path)
    frr = site / "out/paper/routers/router/frr.conf"
    frr.write_text(frr.read_text().replace("maximum-paths ibgp 16", "maximum-paths ibgp 2"))
    _git("add", "-A", cwd=site)
    done = _pre_commit(site, home)
    assert done.returncode == 1
    assert _verdicts(done.stdout) == {
        "lbgen validate": "Passed",
        "lbgen build --check": "Failed",
    }
    assert "+  maximum-paths ibgp 16" in done.stdout


def test_build_check_says_never_built_in_one_line(home: Path, tmp_path: Path) -> None:
    done = _pre_commit(_site(tmp_path, built=False), home)
    assert done.returncode == 1
    assert "out/paper: never built; run `lbgen build examples/paper.yaml`" in done.stdout


def test_the_hook_environment_holds_only_what_validation_needs(home: Path, tmp_path: Path) -> None:
    _pre_commit(_site(tmp_path), home)
    installed = {p.name.lower() for p in home.glob("repo*/py_env-*/lib/python*/site-packages/*")}
    assert any(name.startswith("lbgen") for name in installed), installed
    assert any(name.startswith("pydantic") for name in installed), installed
    assert not {
        n for n in installed if n.startswith(("kubernetes", "prometheus", "pydantic_settings"))
    }
