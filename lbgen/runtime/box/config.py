"""`lbgen box-config`: a box's compiled frr.conf (a BIRD router's bird.conf) plus the password
of each session, read from the files its passwords.json names, written where the daemon reads
it (readable by its group only). The compiled files hold no secret; this is the one place they
meet."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from lbgen.contract import BOX_PASSWORDS_NAME
from lbgen.errors import LbgenError
from lbgen.files import replace_file
from lbgen.passwords import read_password
from lbgen.plan import BoxPasswords
from lbgen.render.bird import render_bird_passwords
from lbgen.render.frr import render_frr_passwords

FRR_CONF = "frr.conf"
BIRD_CONF = "bird.conf"


def box_config(folder: Path, root: Path = Path("/")) -> str:
    """frr.conf (or a BIRD router's bird.conf) of the box whose out/ folder is `folder`, with
    its passwords. `root`: where the box's file system is (/ on the box itself; a staging
    folder elsewhere)."""
    name = BIRD_CONF if (folder / BIRD_CONF).exists() else FRR_CONF
    try:
        compiled = (folder / name).read_text(encoding="utf-8")
    except OSError as error:
        raise LbgenError(
            f"{folder / name}: cannot read it ({error.strerror or error}): give the out/ "
            "folder of a router or reflector whose implementation is frr or bird"
        ) from None
    listing = folder / BOX_PASSWORDS_NAME
    try:
        names = listing.read_text(encoding="utf-8") if listing.exists() else None
    except OSError as error:
        raise LbgenError(f"{listing}: cannot read it ({error.strerror or error})") from None
    return with_passwords(compiled, names, str(listing), root, bird=name == BIRD_CONF)


def with_passwords(
    compiled: str, listing: str | None, where: str, root: Path, *, bird: bool = False
) -> str:
    """`compiled` frr.conf (`bird`: bird.conf) plus the password of each session `listing`
    (passwords.json, read from `where`) names, each read from its file under `root`."""
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
    if bird:
        return render_bird_passwords(compiled, entries)
    return compiled + render_frr_passwords(config, entries)


def write_secret_file(path: Path, text: str) -> None:
    """Replace `path` atomically, mode 0640, keeping the owner and group it had (FRR's)."""
    replace_file(path, text, 0o640, keep_owner=True)
