"""YAML is read with positions; whatever is wrong with the text is a diagnostic, never a crash."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lbgen import source
from lbgen.diagnostics import Diagnostic, Position
from lbgen.source import Document, parse_document, read_document

TEXT = """\
spec:
  services:
    - name: a
      ports: [{port: 80}]
    - name: b
"""


def test_positions_point_at_values_items_and_the_nearest_existing_parent() -> None:
    doc = parse_document(TEXT, "s.yaml")
    assert isinstance(doc, Document)
    assert doc.position(("spec", "services", 1, "name")) == Position("s.yaml", 5, 13)
    assert doc.position(("spec", "services", 0, "ports", 0, "port")) == Position("s.yaml", 4, 22)
    assert doc.position(("spec", "services", 1, "missing")) == Position("s.yaml", 5, 7)
    assert doc.key_position(("spec", "services", 0, "ports")) == Position("s.yaml", 4, 7)


def test_yaml_1_2_keeps_yes_and_on_as_strings() -> None:
    doc = parse_document("a: yes\nb: on\nc: 010\n", "s.yaml")
    assert isinstance(doc, Document)
    assert doc.data == {"a": "yes", "b": "on", "c": 10}


def test_tabs_unclosed_brackets_and_duplicate_keys_are_diagnostics() -> None:
    for text, code in (
        ("a:\n\t- b\n", "LB001"),
        ("a: [1\n", "LB001"),
        ("a: 1\na: 2\n", "LB002"),
        ("", "LB003"),
        ("- 1\n", "LB003"),
    ):
        found = parse_document(text, "s.yaml")
        assert isinstance(found, Diagnostic), text
        assert found.code == code, text


def test_an_unreadable_spec_is_a_diagnostic(tmp_path: Path) -> None:
    missing = read_document(tmp_path / "nope.yaml", "nope.yaml")
    assert isinstance(missing, Diagnostic)
    assert missing.code == "LB000"
    (tmp_path / "bin.yaml").write_bytes(b"\xff\xfe\x00")
    binary = read_document(tmp_path / "bin.yaml", "bin.yaml")
    assert isinstance(binary, Diagnostic)
    assert binary.code == "LB000"


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "spec.yaml"
    os.mkfifo(fifo)
    found = read_document(fifo, "spec.yaml")
    assert isinstance(found, Diagnostic)
    assert found.code == "LB004"


def test_a_device_that_never_ends_is_refused() -> None:
    found = read_document(Path("/dev/zero"), "zero")
    assert isinstance(found, Diagnostic)
    assert found.code == "LB004"


def test_ten_thousand_nested_lists_are_a_finding_not_a_recursion_error() -> None:
    found = parse_document("spec: " + "[" * 10_000 + "]" * 10_000, "deep.yaml")
    assert isinstance(found, Diagnostic)
    assert found.code == "LB006"


def test_only_what_aliases_expand_to_is_bounded_not_a_files_own_nodes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 1000-service fabric's gobgpd.yaml has over a million nodes of its own; the verifier
    reads it back with this parser. The bound on alias expansion refused it (LB200, exit 2:
    bench/compile.py's 1000-service run) until it counted only what aliases bring in."""
    monkeypatch.setattr(source, "MAX_EXPANDED_NODES", 100)
    plain = "items:\n" + "".join(f"  - {{name: n{i}, value: {i}}}\n" for i in range(200))
    assert isinstance(parse_document(plain, "plain.yaml"), Document)
    aliased = "a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\nb: [" + ", ".join(["*a"] * 11) + "]\n"
    found = parse_document(aliased, "aliased.yaml")
    assert isinstance(found, Diagnostic)
    assert found.code == "LB007"
