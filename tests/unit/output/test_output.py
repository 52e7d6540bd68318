"""out/ is written atomically, owns only what its manifest lists, prunes what it stopped writing."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

import pytest

from lbgen.errors import LbgenError
from lbgen.output import MANIFEST, Mode, compare, owned_files, switch, sync


def build(out: Path, tree: dict[str, str]) -> None:
    sync(out, tree, "spec.yaml", Mode.WRITE)


def _snapshot(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): p.read_text()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def _beside(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.lbgen"))


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


def test_a_file_in_the_way_of_a_folder_stops_the_build_before_anything_is_written(
    tmp_path: Path,
) -> None:
    build(tmp_path, {"a.conf": "a\n"})
    (tmp_path / "blocked").write_text("a file where a folder must go\n")
    with pytest.raises(LbgenError, match="not written by lbgen"):
        build(tmp_path, {"a.conf": "new\n", "blocked/b.conf": "b\n"})
    assert (tmp_path / "a.conf").read_text() == "a\n"
    assert owned_files(tmp_path) == {"a.conf"}


def test_paths_escaping_the_output_folder_are_refused(tmp_path: Path) -> None:
    with pytest.raises(LbgenError, match="outside the output folder"):
        compare(tmp_path, {"../evil.conf": "x\n"})


def test_written_files_are_world_readable_and_lf_terminated(tmp_path: Path) -> None:
    build(tmp_path, {"a.conf": "a\n"})
    assert (tmp_path / "a.conf").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / MANIFEST).read_bytes().endswith(b"a.conf\n")


def test_a_symlinked_folder_where_lbgen_writes_stops_the_build_and_is_never_followed(
    tmp_path: Path,
) -> None:
    out, outside = tmp_path / "out", tmp_path / "outside"
    build(out, {"nodes/a/sysctl.conf": "1\n"})
    outside.mkdir()
    (outside / "sysctl.conf").write_text("SECRET=do-not-print\n")
    shutil.rmtree(out / "nodes/a")
    (out / "nodes/a").symlink_to(outside)
    with pytest.raises(LbgenError, match="symbolic link"):
        compare(out, {"nodes/a/sysctl.conf": "2\n"})
    # the manifest still lists nodes/a/sysctl.conf: pruning it must not go through the link
    build(out, {"nodes/b/sysctl.conf": "2\n"})
    assert (outside / "sysctl.conf").read_text() == "SECRET=do-not-print\n"
    assert (out / "nodes/a").is_symlink()


def test_a_link_of_someone_elses_is_kept_as_a_link(tmp_path: Path) -> None:
    out, outside = tmp_path / "out", tmp_path / "outside.txt"
    outside.write_text("theirs\n")
    build(out, {"a.conf": "a\n"})
    (out / "notes").symlink_to(outside)
    build(out, {"a.conf": "b\n"})
    assert (out / "notes").is_symlink()
    assert outside.read_text() == "theirs\n"


def test_a_full_disk_while_staging_leaves_the_old_tree_and_nothing_beside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    build(out, {f"f{i}.conf": "old\n" for i in range(20)})
    before = _snapshot(out)
    written = []

    def fill_up(target: Path, text: str) -> None:
        if len(written) == 7:
            raise OSError(errno.ENOSPC, "No space left on device")
        written.append(target)
        real_write(target, text)

    real_write = switch._write_new
    monkeypatch.setattr(switch, "_write_new", fill_up)
    with pytest.raises(LbgenError, match="nothing was changed"):
        build(out, {f"f{i}.conf": "new\n" for i in range(20)})
    assert _snapshot(out) == before
    assert _beside(out) == []


def test_a_failing_switch_leaves_the_old_tree_and_the_next_build_repairs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    build(out, {"a.conf": "old\n"})
    before = _snapshot(out)

    def refuse(_a: Path, _b: Path) -> bool:
        raise OSError(errno.EIO, "I/O error")

    monkeypatch.setattr(switch, "_exchange", refuse)
    with pytest.raises(LbgenError, match="the next build repairs it"):
        build(out, {"a.conf": "new\n"})
    assert _snapshot(out) == before
    monkeypatch.undo()
    build(out, {"a.conf": "new\n"})
    assert (out / "a.conf").read_text() == "new\n"
    assert _beside(out) == []


def test_without_an_atomic_exchange_an_interruption_between_renames_is_finished_next_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    build(out, {"a.conf": "old\n"})
    monkeypatch.setattr(switch, "_exchange", lambda _a, _b: False)
    real_rmtree = shutil.rmtree

    def killed_before_cleanup(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    # the fallback renames the old tree aside and the staged one into place, then cleans up
    monkeypatch.setattr(switch.shutil, "rmtree", killed_before_cleanup)
    with pytest.raises(KeyboardInterrupt):
        build(out, {"a.conf": "new\n"})
    monkeypatch.setattr(switch.shutil, "rmtree", real_rmtree)
    assert (out / "a.conf").read_text() == "new\n"
    build(out, {"a.conf": "new\n"})
    assert _beside(out) == []
    # the state in between the two renames: no output folder, a complete staged one
    staged = switch.stage(out, compare(out, {"a.conf": "newer\n"}))
    out.rename(tmp_path / "aside")
    switch.recover(out)
    assert (out / "a.conf").read_text() == "newer\n"
    assert staged.exists() is False


def test_temporaries_of_earlier_versions_are_not_carried_over(tmp_path: Path) -> None:
    out = tmp_path / "out"
    build(out, {"a.conf": "a\n"})
    (out / ".a.conf.x1y2.lbgen-tmp").write_text("half\n")
    build(out, {"a.conf": "b\n"})
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "a.conf"]
