"""The kernel order of each virtual server's real servers, and how to make it the same on every
LB. Pure: from /proc/net/ip_vs text and the pools.

Why: IPVS's hashing schedulers (mh, sh) fill their lookup table walking the virtual server's
list of real servers, and the kernel adds a real server at the head of that list. Two LBs with
the same pool pick the same backend for a flow only while their lists are in the same order,
and keepalived applies a reload incrementally: a server added later lands at the head, whatever
its place in keepalived.conf. So after different histories (one LB started after an endpoint
was added, or restarted) the LBs disagree on some flows.

The order every LB converges to is the one a fresh keepalived builds: it adds the servers in
keepalived.conf's order (sorted by address and port), each at the head, so the kernel list is
that order reversed. An LB whose list differs takes out the fewest servers that puts the rest
in that order (keepalived reload without them), then puts them back (reload with them): they
land at the head in the right order. A server taken out keeps its connections: with
net.ipv4.vs.expire_nodest_conn=0 the kernel only holds their packets until the server is back
(it comes back from IPVS's trash with its connections). Health checks never reorder: every real
server has inhibit_on_failure (weight 0, not removal)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from lbgen.plan import ServicePlan
from lbgen.render.keepalived import PoolKey, Pools, RealServer, virtual_servers
from lbgen.runtime.ipvs import Dest, VirtualKey

# schedulers whose choice depends on the list order
ORDERED_SCHEDULERS = frozenset({"mh", "sh"})


def wanted_orders(service: ServicePlan, pools: Pools) -> dict[VirtualKey, tuple[Dest, ...]]:
    """The list a fresh keepalived builds for each virtual server the config has (head first),
    for a scheduler where the order matters."""
    if service.scheduler not in ORDERED_SCHEDULERS:
        return {}
    return {
        (v.port.protocol, v.vip, v.port.port): tuple(
            (s.address, s.port) for s in reversed(v.servers)
        )
        for v in virtual_servers(service, pools)
    }


def to_move(kernel: Sequence[Dest], wanted: Sequence[Dest]) -> tuple[Dest, ...] | None:
    """The fewest servers to take out and put back so that `kernel` becomes `wanted`: a prefix
    of `wanted` (they return to the head), the rest being already in `wanted`'s order in the
    kernel. Empty when in order; None when the kernel does not hold the same servers (keepalived
    has not applied the config yet: nothing to decide)."""
    if sorted(kernel) != sorted(wanted):
        return None
    position = {dest: index for index, dest in enumerate(kernel)}
    # the longest tail of `wanted` that the kernel already has in that order stays put
    start = len(wanted) - 1
    while start > 0 and position[wanted[start - 1]] < position[wanted[start]]:
        start -= 1
    return tuple(wanted[: max(start, 0)])


def rebuild(
    service: ServicePlan, pools: Pools, kernel: Mapping[VirtualKey, Sequence[tuple[Dest, int]]]
) -> dict[PoolKey, tuple[Dest, ...]] | None:
    """Per pool, the servers to take out and put back so that every virtual server of the
    service holds the order a fresh keepalived builds; empty when all are in order, None when
    keepalived has not applied the pools yet (a virtual server missing or with other servers).
    `kernel` is what read_ipvs found."""
    if service.scheduler not in ORDERED_SCHEDULERS:
        return {}
    # per pool and family: the servers a family's VIPs need moved (prefixes of one order: the
    # longest serves every VIP of that family)
    moves: dict[tuple[PoolKey, int], tuple[Dest, ...]] = {}
    for v in virtual_servers(service, pools):
        wanted = tuple((s.address, s.port) for s in reversed(v.servers))
        held = [dest for dest, _weight in kernel.get((v.port.protocol, v.vip, v.port.port), ())]
        move = to_move(held, wanted)
        if move is None:
            return None
        key = ((v.port.target_port, v.port.protocol), v.vip.version)
        if len(move) > len(moves.get(key, ())):
            moves[key] = move
    found: dict[PoolKey, tuple[Dest, ...]] = {}
    for (pool, _version), move in sorted(moves.items(), key=lambda item: item[0][1]):
        found[pool] = (*found.get(pool, ()), *move)
    return {pool: move for pool, move in found.items() if move}


def taken_out(
    moves: Mapping[PoolKey, Sequence[Dest]], kernel: Mapping[VirtualKey, Sequence[tuple[Dest, int]]]
) -> bool:
    """Whether the kernel holds none of the servers being moved any more (the pod's IPVS is
    its service's alone)."""
    moving = {dest for move in moves.values() for dest in move}
    return not any(dest in moving for servers in kernel.values() for dest, _weight in servers)


def without(
    pools: Pools, moves: Mapping[PoolKey, Sequence[Dest]]
) -> dict[PoolKey, tuple[RealServer, ...]]:
    """The pools with the servers to move taken out."""
    return {
        key: tuple(s for s in servers if (s.address, s.port) not in set(moves.get(key, ())))
        for key, servers in pools.items()
    }
