"""keepalived.conf for one service's LB pod: an IPVS virtual server per VIP and port, real
servers from the live endpoints. The build renders it with no pool (the pod's starting config);
`lbgen hook` renders it with the pool, through this same function."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from ipaddress import IPv4Address
from typing import NamedTuple

from lbgen.plan import ServicePlan
from lbgen.render.text import header, render_template


class RealServer(NamedTuple):
    """One backend endpoint for one service port; weight 0 drains it without cutting flows."""

    address: IPv4Address
    port: int
    weight: int = 1


# (target port name, protocol) → real servers; the same pool serves every VIP
PoolKey = tuple[str, str]
Pools = Mapping[PoolKey, tuple[RealServer, ...]]

# schedulers that hash, and can hash on the source port too so one client spreads over backends
PORT_HASHING = {"mh": "mh-port", "sh": "sh-port"}


def config_order(servers: Iterable[RealServer]) -> list[RealServer]:
    """The order of a pool in keepalived.conf: by address and port, whatever the API's."""
    return sorted(servers, key=lambda s: (s.address, s.port))


def render_keepalived(service: ServicePlan, pools: Pools, source: str) -> str:
    servers = {
        port.name: config_order(pools.get((port.target_port, port.protocol), ()))
        for port in service.ports
    }
    return render_template(
        "keepalived/keepalived.conf.j2",
        header=header(source, "!"),
        service=service,
        servers=servers,
        port_hashing=PORT_HASHING.get(service.scheduler),
    )
