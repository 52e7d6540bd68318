"""The testbed's stand-ins for what an operator provides: the password files on the routers and
reflectors, and the Secrets the LB pods read. One random password per session, written once per
testbed (0600, in its work folder), so the two ends of every session agree."""

from __future__ import annotations

import secrets
from pathlib import Path

from lbgen.plan import Plan

FOLDER = "secrets"


def box_root(workdir: Path, box: str) -> Path:
    """Where a router's or reflector's password files are, as if this folder were its /."""
    return workdir / FOLDER / "box" / box


def secret_file(workdir: Path, secret: str, key: str) -> Path:
    """A Secret's key, as the kubelet would project it."""
    return workdir / FOLDER / "k8s" / secret / key


def lay_passwords(plan: Plan, workdir: Path) -> None:
    """Every password the plan's sessions name, on both of their ends: a router's on it and on
    every reflector, a reflector's LB password on it and in its Secret. Kept when already laid
    (a testbed's later commands reuse them)."""
    if (workdir / FOLDER).exists():
        return
    laid: dict[Path, str] = {}
    for router in plan.routers:
        password = secrets.token_urlsafe(24)
        for rr in router.reflectors:
            if rr.password_file is not None:
                laid[box_root(workdir, router.name) / rr.password_file.lstrip("/")] = password
                laid[box_root(workdir, rr.name) / rr.password_file.lstrip("/")] = password
    by_reflector = {rr.name: rr for rr in plan.reflectors}
    for service in plan.services:
        for named in service.bgp_secrets:
            key = secret_file(workdir, named.secret, named.key)
            password = laid.setdefault(key, secrets.token_urlsafe(24))
            box_file = by_reflector[named.reflector].lb_password_file
            if box_file is not None:
                laid[box_root(workdir, named.reflector) / box_file.lstrip("/")] = password
    for path, password in sorted(laid.items()):
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.touch(mode=0o600)
        path.write_text(password, encoding="ascii")
