"""What an implementation's description holds (lbgen.implementations)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from lbgen.contract import BOX_PASSWORDS_NAME
from lbgen.plan import BoxPassword, BoxPasswords, ReflectorPlan, RouterPlan
from lbgen.render import sysctl
from lbgen.render.fib import Follows, render_router_fib
from lbgen.render.tree import Tree
from lbgen.verify.discard import DiscardRule
from lbgen.verify.read import Reader

Box = TypeVar("Box", RouterPlan, ReflectorPlan)
# the compiled config, its box's passwords.json, and each password read from its file → the
# config the daemon reads on the box
Joiner = Callable[[str, BoxPasswords, Sequence[tuple[BoxPassword, str]]], str]


@dataclass(frozen=True)
class Join:
    """What `lbgen box-config` writes a box's passwords into, and how."""

    config: str  # the compiled file in the box's folder, and the daemon's file on the box
    join: Joiner


@dataclass(frozen=True)
class Refusal:
    """Why an implementation cannot do what the spec asks, and what to do instead."""

    why: str
    fix: str = ""


@dataclass(frozen=True)
class Takes:
    """What the spec may ask of an implementation (the checks' side of a description). None:
    it can; a Refusal: it cannot, and why."""

    # the router: gobgpd's zebra client settings (zebraVersion, zebraSoftware, zebraSocket)
    zebra_options: bool = False
    # the router: resilientEcmp at all, and via zebra
    resilient: Refusal | None = None
    resilient_by_zebra: Refusal | None = None
    # GTSM on its sessions: at most this many hops, and why no more (None: any the spec allows)
    gtsm: tuple[int, Refusal] | None = None
    # passwords and GTSM on its sessions with the other side, and eBGP routers beyond it:
    # lbgen renders them for it
    secured: bool = True
    ebgp: bool = True
    # the reflector: a password on the LB pods' (dynamic) sessions
    lb_password: Refusal | None = None
    # the reflector of a dual-stack fabric: needs its own IPv6 address (why, when it does)
    address6: str | None = None
    # routes in the testbed and in production as far as lbgen knows (LB130's warning otherwise)
    unproven: Refusal | None = None


@dataclass(frozen=True)
class TestbedRun:
    """How the testbed runs the box: these daemons in order, on the config lbgen writes for it
    (its passwords joined) or, `owners`, on one its owners wrote from its contract."""

    __test__ = False  # not a pytest test class, despite the name

    daemons: tuple[str, ...]
    owners: bool = False
    refused: str | None = None  # why the testbed cannot run it


@dataclass(frozen=True)
class Implementation(Generic[Box]):
    name: str  # as the spec's `implementation:` says it
    daemon: str  # in words: "FRR", "BIRD", "gobgpd"
    described: str  # how a finding says what the box is: "runs BIRD", "is external"
    config: str  # the file its BGP settings are in (read back by `read`)
    render: Callable[[Box, str], Tree]  # every file lbgen writes for it, by name in its folder
    read: Reader
    testbed: TestbedRun
    takes: Takes = Takes()
    discards: DiscardRule | None = None  # routers: where its discard routes are
    joins: Join | None = None  # what box-config joins the passwords into
    sysctl: bool = True  # lbgen writes its sysctl.conf (else its owners keep its settings)


def linux_router(router: RouterPlan, source: str, follows: Follows) -> Tree:
    """What every Linux router lbgen configures gets beside its BGP daemon's files: its kernel
    settings, and `lbgen router-fib`'s files when its groups are resilient through it."""
    return {
        "sysctl.conf": sysctl.render_sysctl(source, sysctl.router(router.families)),
        **render_router_fib(router, source, follows),
    }


def passwords_file(passwords: BoxPasswords | None) -> Tree:
    """passwords.json when a box's sessions have passwords (which file holds each; never one)."""
    if passwords is None:
        return {}
    return {BOX_PASSWORDS_NAME: passwords.model_dump_json(indent=2) + "\n"}
