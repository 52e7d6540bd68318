"""sysctl.conf for routers, reflectors and nodes: each key with the reason it is set."""

from __future__ import annotations

from typing import NamedTuple

from lbgen.plan import NodePlan
from lbgen.plan.base import Family
from lbgen.render.text import header, render_template


class Setting(NamedTuple):
    key: str
    value: str
    why: str


FORWARDING = Setting("net.ipv4.ip_forward", "1", "forward client traffic towards the LB nodes")
LOOSE_RP_FILTER = Setting(
    "net.ipv4.conf.all.rp_filter",
    "2",
    "loose reverse-path filter: the prefix routes to LB pods come and go with the pods",
)
ROUTER = (
    FORWARDING,
    Setting(
        "net.ipv4.fib_multipath_hash_policy",
        "1",
        "hash ECMP on the 5-tuple so the flows of one client spread over all LBs",
    ),
    Setting(
        "net.ipv4.fib_multipath_use_neigh",
        "1",
        "skip a next hop whose neighbour entry failed while BGP still holds its path",
    ),
)
REFLECTOR = (LOOSE_RP_FILTER,)
# a dual-stack fabric: IPv6 service prefixes are forwarded and spread the same way
ROUTER6 = (
    Setting("net.ipv6.conf.all.forwarding", "1", "forward IPv6 client traffic to the LB nodes"),
    Setting(
        "net.ipv6.fib_multipath_hash_policy",
        "1",
        "hash IPv6 ECMP on the 5-tuple too, so one client's flows spread over all LBs",
    ),
)
NODE6 = (
    Setting("net.ipv6.conf.all.forwarding", "1", "route the IPv6 service prefix to the LB pod"),
)


def router(families: tuple[Family, ...]) -> tuple[Setting, ...]:
    """Forwarding and 5-tuple ECMP for each family the router takes routes of."""
    return (*(ROUTER if "ipv4" in families else ()), *(ROUTER6 if "ipv6" in families else ()))


def node(plan: NodePlan) -> tuple[Setting, ...]:
    ipv4 = (
        Setting(
            "net.ipv4.ip_forward", "1", "route the service prefix from the router to the LB pod"
        ),
        LOOSE_RP_FILTER,
    )
    return (
        *(ipv4 if plan.address is not None else ()),
        Setting(
            "net.netfilter.nf_conntrack_max",
            str(plan.conntrack_max),
            "IPVS NAT tracks every flow; only the host's netns may set the table size",
        ),
        *(NODE6 if plan.address6 is not None else ()),
    )


def render_modules(source: str, plan: NodePlan) -> str:
    """/etc/modules-load.d/lbgen.conf: IPVS and its schedulers, loaded before LB pods start."""
    return render_template(
        "sysctl/modules-load.conf.j2",
        header=header(source, "#"),
        modules=("nf_conntrack", *plan.ipvs_modules),
    )


def render_sysctl(source: str, settings: tuple[Setting, ...]) -> str:
    return render_template(
        "sysctl/sysctl.conf.j2",
        header=header(source, "#"),
        settings=sorted((s.key, s.value) for s in settings),
        comments={s.key: s.why for s in settings},
    )
