"""What the verifier needs of a router's or reflector's rendered files, and the readers that
turn each daemon's config back into a neutral speaker. Which reader reads which box is each
implementation's description (lbgen.implementations); this module never asks a box's name of
implementation."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from lbgen.diagnostics import Diagnostic, Position, broken
from lbgen.plan import Granting
from lbgen.verify.bird import check_bird_import_policy, read_bird
from lbgen.verify.discard import DiscardRule
from lbgen.verify.document import Rendered, read_rendered
from lbgen.verify.external import check_contract, contract_speaker, read_contract
from lbgen.verify.frr import read_frr
from lbgen.verify.frr_policy import check_frr_import_policy
from lbgen.verify.gobgp import (
    check_families,
    check_import_policy,
    check_lbs_get_nothing,
    read_gobgp,
)
from lbgen.verify.speaker import Address, Network, Speaker

# a box's config read back: its speaker (None when it cannot be read at all) and the findings
# of its import policy
Read = tuple[Speaker | None, list[Diagnostic]]
Reader = Callable[[str, "RenderedBox"], Read]


@dataclass(frozen=True)
class RenderedBox:
    """A router or reflector in the tree: where its files are, how its implementation's config
    is read back and checked, and what the plan says it must accept."""

    kind: str  # router | reflector
    name: str
    config: str  # the file its BGP settings are in, in its folder
    read: Reader
    address: Address
    box: Granting  # what it may accept, per next hop
    families: tuple[str, ...]  # what every session carries (gobgpd's names)
    lb_range: Network | None = None  # reflectors: the LB peers' range
    # the AS path its accepted routes carry: empty, the fabric's AS across eBGP
    as_path: tuple[int, ...] = ()
    discards: DiscardRule | None = None  # routers: its discard routes, where and how
    sysctl: bool = True  # lbgen writes its sysctl.conf

    @property
    def folder(self) -> str:
        """routers/<name> or reflectors/<name>"""
        return f"{self.kind}s/{self.name}"

    @property
    def file(self) -> str:
        return f"{self.folder}/{self.config}"


def read_speakers(
    boxes: Sequence[RenderedBox], tree: dict[str, str]
) -> tuple[list[Speaker], list[Diagnostic]]:
    speakers: list[Speaker] = []
    found: list[Diagnostic] = []
    for box in boxes:
        text = tree.get(box.file)
        if text is None:
            where = Position(box.file, 1, 1)
            found.append(broken("LB200", where, f"{box.kind} {box.name} has no config"))
            continue
        try:
            speaker, findings = box.read(text, box)
        except (ValueError, TypeError, AttributeError) as error:
            found.append(
                broken(
                    "LB200",
                    Position(box.file, 1, 1),
                    f"cannot read {box.kind} {box.name}'s BGP settings back: {error}",
                )
            )
            continue
        speakers += [speaker] if speaker is not None else []
        found += findings
    return speakers, found


def read_frr_box(text: str, box: RenderedBox) -> Read:
    """An FRR frr.conf: its speaker, and each session's import route map against the grants."""
    as_path = f"^{' '.join(map(str, box.as_path))}$"
    speaker = read_frr(text, box.file, box.name, box.address, box.kind)
    return speaker, list(check_frr_import_policy(text, box.file, box.kind, box.box, as_path))


def read_bird_box(text: str, box: RenderedBox) -> Read:
    """A BIRD router's bird.conf: its speaker, and its filters against the grants."""
    speaker = read_bird(text, box.file, box.name, box.address, ebgp=bool(box.as_path))
    return speaker, list(check_bird_import_policy(text, box.file, box.box, box.as_path))


def read_contract_box(text: str, box: RenderedBox) -> Read:
    """An external router's contract.json: the speaker it describes, and what it accepts."""
    contract = read_contract(text)
    speaker = contract_speaker(contract, box.file, box.address)
    return speaker, list(check_contract(contract, box.file, box.box, box.as_path))


def read_gobgp_box(text: str, box: RenderedBox) -> Read:
    """A gobgpd.yaml: its speaker, its families, its import policy, and nothing sent to LBs."""
    doc = read_rendered(text, box.file)
    if isinstance(doc, tuple):
        where, problem = doc
        return None, [broken("LB200", where, f"not valid YAML: {problem}")]
    speaker = read_gobgp(doc, box.kind, box.name, box.address)
    return speaker, list(_gobgp_findings(doc, box))


def _gobgp_findings(doc: Rendered, box: RenderedBox) -> Iterator[Diagnostic]:
    yield from check_families(doc, box.families)
    yield from check_import_policy(doc, box.box, box.lb_range)
    yield from check_lbs_get_nothing(doc, box.lb_range)
