"""A router lbgen does not configure (routers[].implementation: external): the contract it must
meet, as data (contract.json) and in words (README.md), with the configs lbgen would render for
it in FRR and BIRD syntax as worked examples (each dry-run checked like any other)."""

from __future__ import annotations

from lbgen.plan import ContractAccept, ContractSession, RouterContract, RouterPlan
from lbgen.render.bird import render_bird_conf
from lbgen.render.frr import render_frr_conf, router_filters
from lbgen.render.text import generated_by, render_template

CONTRACT_NAME = "contract.json"
# what an accepted route carries, whatever the speaker set (the second wall's resets)
RESET = {"local-preference": "100", "med": "0", "communities": "none"}
FAMILY = {4: "ipv4-unicast", 6: "ipv6-unicast"}


def router_contract(router: RouterPlan, source: str) -> RouterContract:
    hop_lists, accepts = router_filters(router)
    hops = {h.name: h.hops for h in hop_lists}
    families = tuple(FAMILY[4 if f == "ipv4" else 6] for f in router.families)
    return RouterContract.model_validate(
        {
            "header": generated_by(source),
            "source": source,
            "kind": "lbgen.io/router-contract",
            "version": 1,
            "router": router.name,
            "router_id": router.router_id,
            "sessions": [
                ContractSession(
                    reflector=rr.name,
                    address=rr.address,
                    asn=rr.asn,
                    local_address=router.address,
                    local_asn=router.asn,
                    ebgp=router.ebgp,
                    families=families,
                    add_paths_receive=True,
                    export="nothing",
                    hold_time=router.timers.hold_time,
                    keepalive=router.timers.keepalive,
                    connect_retry=router.timers.connect_retry,
                    password_file=rr.password_file,
                    ttl_security_hops=rr.ttl_security_hops,
                )
                for rr in router.reflectors
            ],
            "max_paths": router.max_paths,
            "as_path": (router.fabric_asn,) if router.ebgp else (),
            "reset": RESET,
            "accept": [
                ContractAccept.model_validate(
                    {
                        "group": a.prefixes.group,
                        "family": FAMILY[a.prefixes.family.version],
                        "prefixes": a.prefixes.prefixes,
                        "next_hops": hops[a.hops],
                    }
                )
                for a in accepts
            ],
            "discard": router.prefixes,
        }
    )


def render_contract(router: RouterPlan, source: str) -> dict[str, str]:
    """contract.json, README.md and the two worked examples, by file name."""
    contract = router_contract(router, source)
    readme = render_template(
        "external/README.md.j2",
        header=f"<!-- {generated_by(source)} -->",
        router=router,
        contract=contract.model_copy(update={"header": "", "source": ""}),
    )
    return {
        CONTRACT_NAME: contract.model_dump_json(indent=2) + "\n",
        "README.md": readme,
        "example.frr.conf": render_frr_conf(router, source),
        "example.bird.conf": render_bird_conf(router, source),
    }
