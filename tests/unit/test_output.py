"""out/ is written atomically, owns only what its manifest lists, prunes what it stopped writing."""

from __future__ import annotations

from pathlib import Path

import pytest

from lbgen.errors import LbgenError
from lbgen.output import MANIFEST, apply, compare, owned_files


def build(out: Path, tree: dict[str, str]) -> None:
    apply(out, compare(out, tree))


def test_first_build_writes_every_file_and_the_manifest(tmp_path: Path) -> None:
    build(tmp_path, {"a/x.conf": "x\n", "b.conf": "b\n"})
    assert (tmp_path / "a/x.conf").read_text() == "x\n"
    assert owned_files(tmp_path) == {"a/x.conf", "b.conf"}
    assert compare(tmp_path, {"a/x.conf": "x\n", "b.conf": "b\n"}).stale is False


def test_a_file_no_longer_rendered_is_pruned_with_its_empty_folder(tmp_path: Path) -> None:
    build(tmp_path, {"nodes/old/sysctl.conf": "1\n", "keep.conf": "k\n"})
    build(tmp_path, {"keep.conf": "k\n"})
    assert not (tmp_path / "nodes").exists()
    assert owned_files(tmp_path) == {"keep.conf"}


def test_files_lbgen_does_not_own_are_never_touched(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("mine\n")
    build(tmp_path, {"a.conf": "a\n"})
    build(tmp_path, {"b.conf": "b\n"})
    assert (tmp_path / "README.md").read_text() == "mine\n"


def test_an_unowned_file_in_the_way_stops_the_build_before_anything_is_written(
    tmp_path: Path,
) -> None:
    (tmp_path / "b.conf").write_text("hand-made\n")
    with pytest.raises(LbgenError, match="not written by lbgen"):
        build(tmp_path, {"a.conf": "a\n", "b.conf": "b\n"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.conf"]


def test_compare_reads_only_and_gives_a_unified_diff(tmp_path: Path) -> None:
    build(tmp_path, {"a.conf": "one\n", "gone.conf": "g\n"})
    before = {p: p.read_text() for p in tmp_path.rglob("*") if p.is_file()}
    changes = compare(tmp_path, {"a.conf": "two\n"})
    assert changes.stale
    assert "-one\n+two\n" in changes.diff
    assert f"--- a/{tmp_path.as_posix()}/gone.conf" in changes.diff
    assert {p: p.read_text() for p in tmp_path.rglob("*") if p.is_file()} == before


def test_a_failed_write_leaves_the_folder_as_it_was(tmp_path: Path) -> None:
    build(tmp_path, {"a.conf": "a\n"})
    changes = compare(tmp_path, {"a.conf": "new\n", "blocked/b.conf": "b\n"})
    (tmp_path / "blocked").write_text("a file where a folder must go\n")
    with pytest.raises(LbgenError, match="nothing was changed"):
        apply(tmp_path, changes)
    assert (tmp_path / "a.conf").read_text() == "a\n"
    assert not list(tmp_path.rglob("*.lbgen-tmp"))
    assert owned_files(tmp_path) == {"a.conf"}


def test_paths_escaping_the_output_folder_are_refused(tmp_path: Path) -> None:
    with pytest.raises(LbgenError, match="outside the output folder"):
        compare(tmp_path, {"../evil.conf": "x\n"})


def test_written_files_are_world_readable_and_lf_terminated(tmp_path: Path) -> None:
    build(tmp_path, {"a.conf": "a\n"})
    assert (tmp_path / "a.conf").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / MANIFEST).read_bytes().endswith(b"a.conf\n")
