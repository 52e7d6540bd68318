"""keepalived.conf for one service's LB pod: an IPVS virtual server per VIP and port, real
servers from the live endpoints. The build renders it with no pool (the pod's starting config);
`lbgen hook` renders it with the pool, through this same function."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from ipaddress import IPv4Address, IPv6Address
from typing import NamedTuple

from lbgen.plan import PortPlan, ServicePlan
from lbgen.render.text import header, render_template


class RealServer(NamedTuple):
    """One backend endpoint for one service port; weight 0 drains it without cutting flows."""

    address: IPv4Address | IPv6Address
    port: int
    weight: int = 1


# (target port name, protocol) → real servers; the same pool serves every VIP
PoolKey = tuple[str, str]
Pools = Mapping[PoolKey, tuple[RealServer, ...]]

# schedulers that hash, and can hash on the source port too so one client spreads over backends
PORT_HASHING = {"mh": "mh-port", "sh": "sh-port"}


class Virtual(NamedTuple):
    """One IPVS virtual server: a VIP and port, with the pool's servers of the VIP's family."""

    vip: IPv4Address | IPv6Address
    port: PortPlan
    servers: list[RealServer]


def config_order(servers: Iterable[RealServer]) -> list[RealServer]:
    """The order of a pool in keepalived.conf: by family, address and port, whatever the API's."""
    return sorted(servers, key=lambda s: (s.address.version, s.address, s.port))


def virtual_servers(service: ServicePlan, pools: Pools) -> list[Virtual]:
    """Each VIP × port whose pool has servers of the VIP's family (IPv6 VIPs: IPv6 backends)."""
    found = []
    for vip in service.all_vips:
        for port in service.ports:
            pool = pools.get((port.target_port, port.protocol), ())
            servers = config_order(s for s in pool if s.address.version == vip.version)
            if servers:
                found.append(Virtual(vip, port, servers))
    return found


def render_keepalived(service: ServicePlan, pools: Pools, source: str) -> str:
    return render_template(
        "keepalived/keepalived.conf.j2",
        header=header(source, "!"),
        service=service,
        virtuals=virtual_servers(service, pools),
        port_hashing=PORT_HASHING.get(service.scheduler),
    )
