"""The YAML writer: what it writes reads back as the same data, in YAML 1.2 and in 1.1 terms."""

from __future__ import annotations

from typing import Any

import pytest
from ruamel.yaml import YAML

from lbgen.render.yamldoc import dump_yaml

AMBIGUOUS_IN_YAML_1_1 = [
    "yes",
    "No",
    "on",
    "OFF",
    "y",
    "n",
    "~",
    "null",
    "0644",
    "0x1f",
    "1_000",
    "1:20",
    "1.0",
    ".5",
    "1e3",
    "-3",
    "+7",
    ".inf",
    "true",
    "",
]


TRICKY = [
    "x: y",
    "a #b",
    "-dash",
    " lead",
    "trail ",
    "it's",
    "multi\nline",
    "tab\there",
    "@at",
    "*star",
    "&amp",
    "!bang",
    "%pct",
    "[x]",
    "{x}",
    "https://x.y/z.git",
    "é",
    "10.0.0.0/16",
    "24..24",
    "lbgen.io/prefix",
    "localhost/lbgen:0.1.0",
]


@pytest.mark.parametrize("text", AMBIGUOUS_IN_YAML_1_1 + TRICKY)
def test_every_string_reads_back_as_itself(text: str) -> None:
    data: dict[str, Any] = {"key": text, text or "empty": [text], "n": 1, "b": True, "z": None}
    assert YAML(typ="safe").load(dump_yaml(data)) == data


@pytest.mark.parametrize("text", AMBIGUOUS_IN_YAML_1_1)
def test_strings_a_yaml_1_1_reader_would_misread_are_quoted(text: str) -> None:
    assert dump_yaml({"k": text}) in (f"k: '{text}'\n", f'k: "{text}"\n')


def test_nesting_empty_collections_and_the_header() -> None:
    data = {"a": [{"b": [1, [2]], "c": {}}, []], "d": {"e": {"f": []}}}
    text = dump_yaml(data, "one\ntwo")
    assert text.startswith("# one\n# two\na:\n- b:\n  - 1\n  - - 2\n  c: {}\n- []\n")
    assert YAML(typ="safe").load(text) == data


def test_other_types_are_refused() -> None:
    with pytest.raises(TypeError):
        dump_yaml({"x": 1.5})
