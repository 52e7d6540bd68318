"""exabgp.conf for one LB pod (the paper's appendix D): a neighbour per reflector, router-id and
local address = the pod's IP, next hop = its node's IP (an IPv6-only cluster's pod hashes its
address into a router-id); the routes come from the announcer process, per family, while the
pod's datapath can serve it. Both are known only when the pod starts,
so `lbgen pod exabgp` renders this in the pod, with the same function the build tests use.
A dual-stack service's IPv6 prefix rides the same sessions, with the node's IPv6 address (from
the plan, by node name) as next hop."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from ipaddress import IPv4Address, IPv6Address

from lbgen.plan import ServicePlan
from lbgen.render.text import header, render_template


def router_id(pod_ip: IPv4Address | IPv6Address) -> IPv4Address:
    """The pod's BGP identifier (32 bits): its IPv4 address; in an IPv6-only cluster 32 bits
    of a hash of its IPv6 address (the same on every start; RFC 6286 wants identifiers unique
    in the AS, and two of n pods share one with odds of about n²/2³³), never 0.0.0.0."""
    if isinstance(pod_ip, IPv4Address):
        return pod_ip
    digest = hashlib.blake2s(pod_ip.packed, digest_size=4, person=b"lbgen-id").digest()
    return IPv4Address(int.from_bytes(digest, "big") or 1)


def render_exabgp(
    service: ServicePlan,
    pod_ip: IPv4Address | IPv6Address,
    node_ip: IPv4Address | IPv6Address,
    source: str,
    passwords: Mapping[str, str] | None = None,
    *,
    node_ip6: IPv6Address | None = None,
    announcer: Sequence[str],
) -> str:
    """`passwords`: reflector name → its TCP-MD5 password, read from the pod's Secret volume;
    the result then holds secrets and is written only to the pod's memory-backed /run.
    `announcer`: the command exabgp runs to announce and withdraw each prefix; it is given each
    (prefix, next hop) pair."""
    node_ip6 = node_ip6 if service.prefix6 is not None else None
    routes = [
        (str(prefix), str(hop))
        for prefix, hop in ((service.prefix, node_ip), (service.prefix6, node_ip6))
        if prefix is not None and hop is not None
    ]
    return render_template(
        "exabgp/exabgp.conf.j2",
        header=header(source, "#"),
        service=service,
        pod_ip=pod_ip,
        router_id=router_id(pod_ip),
        node_ip=node_ip,
        node_ip6=node_ip6,
        passwords=passwords or {},
        announcer=tuple(announcer),
        routes=routes,
    )
