"""Find each router's and reflector's rendered config in the tree and read its speaker."""

from __future__ import annotations

from dataclasses import dataclass

from lbgen.errors import Diagnostic, Position
from lbgen.plan import Granting, Plan, RouterPlan
from lbgen.render.external import CONTRACT_NAME
from lbgen.verify.bird import check_bird_import_policy, read_bird
from lbgen.verify.document import read_rendered
from lbgen.verify.external import check_contract, contract_speaker, read_contract
from lbgen.verify.finding import broken
from lbgen.verify.frr import read_frr
from lbgen.verify.frr_policy import check_frr_import_policy
from lbgen.verify.gobgp import (
    check_families,
    check_import_policy,
    check_lbs_get_nothing,
    read_gobgp,
)
from lbgen.verify.sessions import families
from lbgen.verify.speaker import Address, Network, Speaker


@dataclass(frozen=True)
class RenderedSpeaker:
    """Where a BGP speaker's config is in the tree, and what the plan says it must accept."""

    file: str
    kind: str  # router | reflector
    name: str
    address: Address
    box: Granting  # what it may accept, per next hop
    lb_range: Network | None = None  # reflectors: the LB peers' range
    # the AS path its accepted routes carry: empty, the fabric's AS across eBGP
    as_path: tuple[int, ...] = ()

    daemon: str = ""  # frr | gobgp | bird | external


# the file each implementation's BGP settings are in
CONFIG_FILE = {
    "frr": "frr.conf",
    "gobgp": "gobgpd.yaml",
    "bird": "bird.conf",
    "external": CONTRACT_NAME,
}


def _rendered(plan: Plan) -> list[RenderedSpeaker]:
    routers = [
        RenderedSpeaker(
            f"routers/{r.name}/{CONFIG_FILE[r.implementation]}",
            "router",
            r.name,
            r.address,
            r,
            as_path=(r.fabric_asn,) if r.ebgp else (),
            daemon=r.implementation,
        )
        for r in plan.routers
    ]
    reflectors = [
        RenderedSpeaker(
            f"reflectors/{r.name}/{CONFIG_FILE[r.implementation]}",
            "reflector",
            r.name,
            r.address,
            r,
            r.pod_range,
            daemon=r.implementation,
        )
        for r in plan.reflectors
    ]
    return routers + reflectors


def read_speakers(plan: Plan, tree: dict[str, str]) -> tuple[list[Speaker], list[Diagnostic]]:
    speakers: list[Speaker] = []
    found: list[Diagnostic] = []
    for box in _rendered(plan):
        file, kind, name = box.file, box.kind, box.name
        text = tree.get(file)
        if text is None:
            found.append(broken("LB200", Position(file, 1, 1), f"{kind} {name} has no config"))
            continue
        try:
            if box.daemon == "bird":
                ebgp = isinstance(box.box, RouterPlan) and box.box.ebgp
                speakers.append(read_bird(text, file, name, box.address, ebgp))
                found.extend(check_bird_import_policy(text, file, box.box, box.as_path))
                continue
            if box.daemon == "external":
                contract = read_contract(text)
                speakers.append(contract_speaker(contract, file, box.address))
                found.extend(check_contract(contract, file, box.box, box.as_path))
                continue
            if box.daemon == "frr":
                speakers.append(read_frr(text, file, name, box.address, kind))
                found.extend(
                    check_frr_import_policy(
                        text, file, kind, box.box, f"^{' '.join(map(str, box.as_path))}$"
                    )
                )
                continue
            doc = read_rendered(text, file)
            if isinstance(doc, tuple):
                where, problem = doc
                found.append(broken("LB200", where, f"not valid YAML: {problem}"))
                continue
            speakers.append(read_gobgp(doc, kind, name, box.address))
            found.extend(check_families(doc, families(plan)))
            found.extend(check_import_policy(doc, box.box, box.lb_range))
            found.extend(check_lbs_get_nothing(doc, box.lb_range))
        except (ValueError, TypeError, AttributeError) as error:
            found.append(
                broken(
                    "LB200",
                    Position(file, 1, 1),
                    f"cannot read {kind} {name}'s BGP settings back: {error}",
                )
            )
    return speakers, found
