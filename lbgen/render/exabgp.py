"""exabgp.conf for one LB pod (the paper's appendix D): a neighbour per reflector, router-id and
local address = the pod's IP, next hop = its node's IP (an IPv6-only cluster's pod folds its
address into a router-id). Both are known only when the pod starts,
so `lbgen pod exabgp` renders this in the pod, with the same function the build tests use.
A dual-stack service's IPv6 prefix rides the same sessions, with the node's IPv6 address (from
the plan, by node name) as next hop."""

from __future__ import annotations

from collections.abc import Mapping
from ipaddress import IPv4Address, IPv6Address

from lbgen.plan import ServicePlan
from lbgen.render.text import header, render_template


def router_id(pod_ip: IPv4Address | IPv6Address) -> IPv4Address:
    """The pod's BGP identifier (32 bits): its IPv4 address; in an IPv6-only cluster its IPv6
    address folded to 32 bits (XOR of the four words: pods of different nodes differ in the
    node's subnet, pods of one node in the host part), never 0.0.0.0."""
    if isinstance(pod_ip, IPv4Address):
        return pod_ip
    value = int(pod_ip)
    folded = 0
    for _ in range(4):
        folded ^= value & 0xFFFFFFFF
        value >>= 32
    return IPv4Address(folded or 1)


def render_exabgp(
    service: ServicePlan,
    pod_ip: IPv4Address | IPv6Address,
    node_ip: IPv4Address | IPv6Address,
    source: str,
    passwords: Mapping[str, str] | None = None,
    *,
    node_ip6: IPv6Address | None = None,
) -> str:
    """`passwords`: reflector name → its TCP-MD5 password, read from the pod's Secret volume;
    the result then holds secrets and is written only to the pod's memory-backed /run."""
    return render_template(
        "exabgp/exabgp.conf.j2",
        header=header(source, "#"),
        service=service,
        pod_ip=pod_ip,
        router_id=router_id(pod_ip),
        node_ip=node_ip,
        node_ip6=node_ip6 if service.prefix6 is not None else None,
        passwords=passwords or {},
    )
