"""lbgen/passwords.py: a password is read from its file (one final newline dropped), refused by
its rule and never shown, and never read from anything but a regular file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lbgen.errors import LbgenError
from lbgen.passwords import MOST_BYTES, read_password


@pytest.mark.parametrize(
    "written", [b"S3cret-pw\n", b"S3cret-pw", b"S3cret-pw\r\n"], ids=["lf", "none", "crlf"]
)
def test_a_password_file_is_read_with_its_one_final_newline_dropped(
    tmp_path: Path, written: bytes
) -> None:
    (tmp_path / "pw").write_bytes(written)
    assert read_password(tmp_path / "pw", "x") == "S3cret-pw"


@pytest.mark.parametrize(
    "written",
    [
        b"",
        b"\n",
        b"two words",
        b"semi;colon",
        b"brace}",
        b'quote"',
        b"hash#",
        b"bang!",
        b"back\\slash",
        b"line\nbreak",
        b"caf\xc3\xa9",
        b"x" * (MOST_BYTES + 1),
    ],
)
def test_a_bad_password_is_refused_by_rule_and_never_shown(tmp_path: Path, written: bytes) -> None:
    (tmp_path / "pw").write_bytes(written)
    with pytest.raises(LbgenError) as raised:
        read_password(tmp_path / "pw", "reflector rr-a")
    said = str(raised.value)
    assert said.startswith(f"{tmp_path / 'pw'}: the BGP password of reflector rr-a must be")
    if len(written) > 3:
        assert written.decode(errors="replace").strip() not in said


def test_a_missing_password_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(LbgenError, match=r"/nowhere: cannot read the BGP password of x"):
        read_password(tmp_path / "nowhere", "x")


def test_a_password_path_that_is_no_regular_file_is_refused_without_blocking(
    tmp_path: Path,
) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for path in (fifo, tmp_path):
        with pytest.raises(LbgenError, match="must be in a regular file"):
            read_password(path, "x")
