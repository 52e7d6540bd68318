"""The CLI as users and CI drive it: exit codes 0 ok, 1 findings or stale, 2 usage or internal."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from lbgen import cli, compiler
from tests.conftest import ROOT

PAPER = ROOT / "examples" / "paper.yaml"


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    shutil.copy(PAPER, tmp_path / "paper.yaml")
    return tmp_path


def _built_then_edited(site: Path) -> Path:
    """Build, then edit the router's frr.conf by hand: out/ is stale."""
    cli.main(["build", "paper.yaml"])
    frr = site / "out/paper/routers/router/frr.conf"
    frr.write_text(frr.read_text().replace("maximum-paths ibgp 16", "maximum-paths ibgp 1"))
    return frr


def test_build_writes_out_name_then_check_passes(site: Path) -> None:
    assert cli.main(["build", "paper.yaml"]) == 0
    assert (site / "out/paper/routers/router/frr.conf").exists()
    assert cli.main(["build", "paper.yaml", "--check"]) == 0


def test_check_fails_with_a_diff_and_writes_nothing_when_stale(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frr = _built_then_edited(site)
    capsys.readouterr()
    assert cli.main(["build", "paper.yaml", "--check"]) == 1
    out = capsys.readouterr()
    assert "-  maximum-paths ibgp 1\n+  maximum-paths ibgp 16\n" in out.out
    assert "stale" in out.err
    assert "maximum-paths ibgp 1\n" in frr.read_text()


def test_diff_prints_the_change_and_writes_nothing(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["build", "paper.yaml", "--diff"]) == 0
    assert "+++ b/out/paper/routers/router/frr.conf" in capsys.readouterr().out
    assert not (site / "out").exists()


def test_an_invalid_spec_exits_1_and_leaves_out_untouched(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cli.main(["build", "paper.yaml"])
    before = {p: p.read_bytes() for p in (site / "out").rglob("*") if p.is_file()}
    spec = site / "paper.yaml"
    spec.write_text(spec.read_text().replace("prefix: 10.1.2.0/24", "prefix: 10.1.1.0/24"))
    assert cli.main(["build", "paper.yaml"]) == 1
    said = capsys.readouterr().out
    assert "paper.yaml:51:15: error[LB104] services[1].prefix: 10.1.1.0/24 overlaps" in said
    assert {p: p.read_bytes() for p in (site / "out").rglob("*") if p.is_file()} == before


def test_output_folder_override(site: Path) -> None:
    assert cli.main(["build", "paper.yaml", "-o", "elsewhere"]) == 0
    assert (site / "elsewhere/reflectors/rr/gobgpd.yaml").exists()


def test_usage_errors_exit_2(site: Path) -> None:
    with pytest.raises(SystemExit) as raised:
        cli.main(["build"])
    assert raised.value.code == 2
    with pytest.raises(SystemExit) as raised:
        cli.main(["frobnicate"])
    assert raised.value.code == 2
    assert cli.main(["build", "paper.yaml", "paper.yaml", "-o", "x"]) == 2


def test_an_internal_error_is_one_line_exit_2_never_a_traceback(
    site: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def explode(*_args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(compiler, "compile_file", explode)
    assert cli.main(["validate", "paper.yaml"]) == 2
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: boom" in err
    assert "Traceback" not in err


def test_missing_spec_is_a_finding(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["validate", "nope.yaml"]) == 1
    assert "nope.yaml:1:1: error[LB000]" in capsys.readouterr().out


def test_github_format_is_chosen_inside_github_actions(
    site: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (site / "bad.yaml").write_text(PAPER.read_text().replace("asn: 65021", "asn: 23456"))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert cli.main(["validate", "bad.yaml"]) == 1
    assert capsys.readouterr().out.startswith("::error file=bad.yaml,line=")


def test_json_format_lists_every_diagnostic(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (site / "bad.yaml").write_text(PAPER.read_text().replace("asn: 65021", "asn: 23456"))
    assert cli.main(["validate", "bad.yaml", "--format", "json"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["errors"] == 1
    assert document["diagnostics"][0]["code"] == "LB114"
    assert document["diagnostics"][0]["file"] == "bad.yaml"


def test_schema_check(site: Path) -> None:
    target = site / "schema.json"
    assert cli.main(["schema", "-o", str(target), "--check"]) == 1
    assert cli.main(["schema", "-o", str(target)]) == 0
    assert cli.main(["schema", "-o", str(target), "--check"]) == 0


def test_check_with_json_prints_one_json_document_holding_the_diff(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _built_then_edited(site)
    capsys.readouterr()
    assert cli.main(["build", "paper.yaml", "--check", "--format", "json"]) == 1
    document = json.loads(capsys.readouterr().out)
    (output,) = document["outputs"]
    assert output["stale"] is True
    assert output["write"] == ["routers/router/frr.conf"]
    assert "+  maximum-paths ibgp 16\n" in output["diff"]


def test_check_with_github_annotates_each_stale_file(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cli.main(["build", "paper.yaml"])
    frr = site / "out/paper/routers/router/frr.conf"
    frr.write_text("edited by hand\n")
    capsys.readouterr()
    assert cli.main(["build", "paper.yaml", "--check", "--format", "github"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("::error file=out/paper/routers/router/frr.conf,title=stale::")
    assert "run `lbgen build paper.yaml`" in out.splitlines()[0]


def test_check_of_a_never_built_folder_says_so_in_one_line(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["build", "paper.yaml", "--check"]) == 1
    said = capsys.readouterr()
    assert said.out == ""
    assert said.err == "out/paper: never built; run `lbgen build paper.yaml` and commit out/paper\n"


def test_output_is_the_same_from_the_root_a_subfolder_or_an_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "sites").mkdir()
    shutil.copy(PAPER, repo / "sites/paper.yaml")
    trees = []
    for cwd, spec in (
        (repo, "sites/paper.yaml"),
        (repo / "sites", "paper.yaml"),
        (tmp_path, str(repo / "sites/paper.yaml")),
    ):
        monkeypatch.chdir(cwd)
        assert cli.main(["build", spec]) == 0
        out = repo / "out/paper"
        trees.append({p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()})
        shutil.rmtree(out)
    assert trees[0] == trees[1] == trees[2]
    assert (
        b"generated by lbgen from sites/paper.yaml"
        in trees[0][Path("cluster/services/web1/lb.json")]
    )
