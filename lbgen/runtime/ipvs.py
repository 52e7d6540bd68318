"""The kernel's IPVS table as /proc/net/ip_vs writes it: what the hook checks its reloads
against, the readiness probe's datapath check and the testbed read."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address

Address = IPv4Address | IPv6Address


def ipvs_endpoint(text: str) -> tuple[IPv4Address | IPv6Address, int] | None:
    """An endpoint as /proc/net/ip_vs writes it: `0A010101:0050` (IPv4, hex) or
    `[2001:0db8:...:0001]:0050` (IPv6); None for anything else."""
    address, _, port = text.rpartition(":")
    if len(port) != 4:
        return None
    try:
        number = int(port, 16)
        if address.startswith("[") and address.endswith("]"):
            return IPv6Address(address[1:-1]), number
        if len(address) == 8:
            return IPv4Address(int(address, 16)), number
    except ValueError:
        return None
    return None


Dest = tuple[Address, int]  # real server address, port
VirtualKey = tuple[str, Address, int]  # protocol, VIP, port


def read_ipvs(text: str) -> dict[VirtualKey, tuple[tuple[Dest, int], ...]]:
    """Each virtual server of /proc/net/ip_vs (either family) with its real servers and their
    weights, in the kernel's list order (head first: the file does not sort, `ipvsadm -L`
    does)."""
    found: dict[VirtualKey, list[tuple[Dest, int]]] = {}
    current: VirtualKey | None = None
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0] in ("TCP", "UDP", "SCTP"):
            endpoint = ipvs_endpoint(fields[1])
            current = (fields[0], *endpoint) if endpoint else None
            if current is not None:
                found[current] = []
        elif len(fields) >= 4 and fields[0] == "->" and current is not None:
            dest = ipvs_endpoint(fields[1])
            if dest is not None and fields[3].isdigit():
                found[current].append((dest, int(fields[3])))
    return {key: tuple(dests) for key, dests in found.items()}
