"""`lbgen box-config`: a box's compiled config plus the password of each session, read from the
files its passwords.json names, written where the daemon reads it (readable by its group only).
What it joins, and how, is the box's implementation's description (lbgen.implementations: FRR's
frr.conf, BIRD's bird.conf). The compiled files hold no secret; this is the one place they meet."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from lbgen.contract import BOX_PASSWORDS_NAME
from lbgen.errors import LbgenError
from lbgen.files import replace_file
from lbgen.implementations import JOINED, JOINS
from lbgen.implementations.description import Join
from lbgen.passwords import read_password
from lbgen.plan import BoxPasswords


def box_config(folder: Path, root: Path = Path("/")) -> str:
    """The daemon's config of the box whose out/ folder is `folder`, with its passwords.
    `root`: where the box's file system is (/ on the box itself; a staging folder elsewhere)."""
    join = next((j for name, j in JOINS.items() if (folder / name).exists()), None)
    if join is None:
        kinds = " or ".join(dict.fromkeys(i.name for i in JOINED))
        raise LbgenError(
            f"{folder}: holds no {' or '.join(JOINS)}: give the out/ folder of a router or "
            f"reflector whose implementation is {kinds}"
        )
    try:
        compiled = (folder / join.config).read_text(encoding="utf-8")
    except OSError as error:
        raise LbgenError(
            f"{folder / join.config}: cannot read it ({error.strerror or error})"
        ) from None
    listing = folder / BOX_PASSWORDS_NAME
    try:
        names = listing.read_text(encoding="utf-8") if listing.exists() else None
    except OSError as error:
        raise LbgenError(f"{listing}: cannot read it ({error.strerror or error})") from None
    return with_passwords(compiled, names, str(listing), root, join)


def with_passwords(compiled: str, listing: str | None, where: str, root: Path, join: Join) -> str:
    """`compiled` plus the password of each session `listing` (passwords.json, read from
    `where`) names, each read from its file under `root`, joined as `join` says."""
    if listing is None:
        return compiled
    try:
        config = BoxPasswords.model_validate_json(listing)
    except ValidationError as error:
        raise LbgenError(
            f"{where}: not a passwords list lbgen wrote ({error.error_count()} problem(s)); "
            "rebuild out/ with lbgen build"
        ) from None
    entries = [
        (entry, read_password(root / entry.file.lstrip("/"), f"neighbour {entry.neighbor}"))
        for entry in config.passwords
    ]
    return join.join(compiled, config, entries)


def write_secret_file(path: Path, text: str) -> None:
    """Replace `path` atomically, mode 0640, keeping the owner and group it had (FRR's)."""
    replace_file(path, text, 0o640, keep_owner=True)
