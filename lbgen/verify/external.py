"""Read an external router's contract.json back: the speaker it describes (its sessions, to
check against the reflectors' ends) and its accepted (prefix, next hop) pairs against the
plan's grants, so a contract the network team configures from is never looser than the plan."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from ipaddress import ip_network

from lbgen.diagnostics import Diagnostic, Position, broken
from lbgen.plan import Granting, RouterContract
from lbgen.verify.speaker import (
    Accepted,
    Address,
    Canonical,
    Neighbor,
    Speaker,
    accept,
    differing,
    granted,
    group_sets,
    shown,
)


def read_contract(text: str) -> RouterContract:
    """Raises ValueError (pydantic's ValidationError is one) when it is not a contract."""
    return RouterContract.model_validate_json(text)


def contract_speaker(contract: RouterContract, file: str, address: Address) -> Speaker:
    where = partial(Position, file, 1, 1)
    local = {s.local_asn for s in contract.sessions}
    ebgp = any(s.ebgp for s in contract.sessions)
    families = {f for s in contract.sessions for f in s.families}
    return Speaker(
        name=contract.router,
        kind="router",
        file=file,
        address=address,
        asn=local.pop() if len(local) == 1 else None,
        where=where,
        multipath={(f, ebgp): contract.max_paths for f in families},
        neighbors=tuple(
            Neighbor(
                peer=s.address,
                peer_as=s.asn,
                where=where,
                families=s.families,
                add_paths_receive=s.add_paths_receive,
                ttl_security_hops=s.ttl_security_hops,
            )
            for s in contract.sessions
        ),
    )


def check_contract(
    contract: RouterContract, file: str, box: Granting, as_path: tuple[int, ...]
) -> Iterator[Diagnostic]:
    where = Position(file, 1, 1)
    sets = group_sets(box.groups)
    accepted: Accepted = {}
    for entry in contract.accept:
        accept(accepted, frozenset(entry.prefixes), {ip_network(h) for h in entry.next_hops})
    differ = differing(accepted, granted(sets, box.grants), Canonical(sets))
    if differ:
        yield broken(
            "LB207",
            where,
            f"the routes router {contract.router}'s contract accepts differ from the plan's "
            f"grants at {shown(differ)}",
        )
    if contract.as_path != as_path:
        yield broken(
            "LB207",
            where,
            f"router {contract.router}'s contract accepts the AS path "
            f"{list(contract.as_path)}, not {list(as_path)}",
        )
    if set(map(str, contract.discard)) != set(map(str, box.prefixes)):
        yield broken(
            "LB212",
            where,
            f"router {contract.router}'s contract does not discard exactly the service prefixes",
        )
