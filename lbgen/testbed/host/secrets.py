"""The testbed's stand-ins for what an operator provides: the password files on the routers and
reflectors, and the Secrets the LB pods read: one random password per file the boxes name,
written once per testbed (0600, in its work folder)."""

from __future__ import annotations

import secrets
from pathlib import Path

from lbgen.contract import BOX_PASSWORDS_NAME
from lbgen.plan import BoxPasswords, Plan

FOLDER = "secrets"


def box_root(workdir: Path, box: str) -> Path:
    """Where a box's password files are, as if this folder were its /. `box`: its folder in
    the tree (routers/<name> or reflectors/<name>)."""
    return workdir / FOLDER / "box" / box


def secret_file(workdir: Path, secret: str, key: str) -> Path:
    """A Secret's key, as the kubelet would project it."""
    return workdir / FOLDER / "k8s" / secret / key


def lay_passwords(plan: Plan, tree: dict[str, str], workdir: Path) -> None:
    """Every password file each box's passwords.json names (what `lbgen box-config` reads
    there), and the Secrets the LB pods read. Both ends of a session name the same file (a
    router's file on it and on each reflector; a reflector's LB file and its Secret), so one
    password per file makes them agree. Kept when already laid (later commands reuse them)."""
    if (workdir / FOLDER).exists():
        return
    chosen: dict[str, str] = {}  # file on the boxes → its password
    laid: dict[Path, str] = {}
    for file, text in tree.items():
        box, _, name = file.rpartition("/")
        if name == BOX_PASSWORDS_NAME:
            for entry in BoxPasswords.model_validate_json(text).passwords:
                password = chosen.setdefault(entry.file, secrets.token_urlsafe(24))
                laid[box_root(workdir, box) / entry.file.lstrip("/")] = password
    files = {rr.name: rr.lb_password_file for rr in plan.reflectors}
    for service in plan.services:
        for named in service.bgp_secrets:
            box_file = files[named.reflector] or f"secret {named.secret}/{named.key}"
            password = chosen.setdefault(box_file, secrets.token_urlsafe(24))
            laid[secret_file(workdir, named.secret, named.key)] = password
    for path, password in sorted(laid.items()):
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.touch(mode=0o600)
        path.write_text(password, encoding="ascii")
