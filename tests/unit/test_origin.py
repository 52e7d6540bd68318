"""Where a spec lives and what generated files call it: its path from its repository's root,
in a safe alphabet, whatever the working directory."""

from __future__ import annotations

from pathlib import Path

from lbgen.origin import (
    MAX_SOURCE_LENGTH,
    default_output,
    repository_root,
    safe_source,
    source_name,
)


def test_the_name_is_the_path_from_the_repository_root(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "sites/eu").mkdir(parents=True)
    spec = tmp_path / "sites/eu/fabric.yaml"
    spec.write_text("")
    assert repository_root(spec) == tmp_path
    assert source_name(spec) == "sites/eu/fabric.yaml"
    assert default_output(spec, "eu") == tmp_path / "out" / "eu"


def test_outside_a_repository_the_name_is_the_file_name(tmp_path: Path) -> None:
    spec = tmp_path / "fabric.yaml"
    spec.write_text("")
    assert source_name(spec) == "fabric.yaml"


def test_a_worktree_whose_git_is_a_file_counts_as_a_repository(tmp_path: Path) -> None:
    (tmp_path / ".git").write_text("gitdir: /elsewhere\n")
    assert repository_root(tmp_path / "a.yaml") == tmp_path


def test_unsafe_characters_never_reach_a_header() -> None:
    assert safe_source("a b\n#!{}\"';.yaml") == "a_b________.yaml"
    assert safe_source("") == "_"
    long = safe_source("x" * 500)
    assert len(long) == MAX_SOURCE_LENGTH
    assert long.startswith("...")
