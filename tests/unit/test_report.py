"""Reporters: one line per finding for people, escaped annotations for GitHub, JSON for tools."""

from __future__ import annotations

from lbgen.cli import FORMAT_NAMES
from lbgen.diagnostics import Diagnostic, Position, Related, Severity
from lbgen.report import FORMATS, Said, format_github, format_text

FINDING = Diagnostic(
    "LB104",
    Severity.ERROR,
    ("spec", "services", 1, "prefix"),
    "10.1.1.0/24 overlaps services[0].prefix 10.1.1.0/24",
    "give each service its own prefix",
    Position("x.yaml", 12, 7),
    (Related(("spec", "services", 0, "prefix"), Position("x.yaml", 4, 13)),),
)


def test_text_is_file_line_col_severity_code_path_message_related_hint() -> None:
    assert format_text([FINDING]) == Said(
        "x.yaml:12:7: error[LB104] services[1].prefix: 10.1.1.0/24 overlaps services[0].prefix "
        "10.1.1.0/24 (x.yaml:4:13); hint: give each service its own prefix\n"
        "1 error(s), 0 warning(s)\n"
    )


def test_github_annotations_escape_their_properties_and_message() -> None:
    odd = Diagnostic("LB001", Severity.WARNING, (), "50%\nbad", "", Position("a,b:c.yaml", 1, 2))
    assert format_github([odd]) == Said(
        "::warning file=a%2Cb%3Ac.yaml,line=1,col=2,title=LB001::<document>: 50%25%0Abad\n"
    )


def test_nothing_to_say_prints_nothing() -> None:
    assert format_text([]) == Said()


def test_the_cli_offers_exactly_the_formats_there_are() -> None:
    assert set(FORMAT_NAMES) == set(FORMATS)
