"""Linux IPVS's Maglev-hash scheduler (net/netfilter/ipvs/ip_vs_mh.c, kernel 6.1), IPv4, as a
model: the lookup table a list of real servers gives, and the real server a client's flow gets.
Tests use it to predict the kernel's choices exactly and to pick the few source ports whose
backend depends on the list order (a 1-in-4,093 effect that random probes would not see).

- hsiphash on 64-bit kernels is SipHash-1-3 with a 128-bit key, truncated to 32 bits; the mh
  keys are constants of the module (generate_hash_secret), the same on every machine;
- a real server's permutation: offset = h(addr + port, key1) % M, skip = h(..., key2) % (M-1)+1;
- the table is filled walking the list in kernel order (the head first), each server taking
  weight/gcd turns a round, weight 0 none;
- a flow's slot: h(client address + source port (mh-port) or + 0, key1) % M.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import reduce
from ipaddress import IPv4Address
from math import gcd

SIZE = 4093  # primes[CONFIG_IP_VS_MH_TAB_INDEX (12) - 8]
TAB_BITS = 5  # ilog2(SIZE) / 2
KEY1 = (2654435761, 2654435761)
KEY2 = (2654446892, 2654446892)
MASK = (1 << 64) - 1

RealServer = tuple[IPv4Address, int, int]  # address, port, weight


def _rol(value: int, bits: int) -> int:
    return ((value << bits) | (value >> (64 - bits))) & MASK


def _sipround(v: list[int]) -> None:
    v[0] = (v[0] + v[1]) & MASK
    v[1] = _rol(v[1], 13) ^ v[0]
    v[0] = _rol(v[0], 32)
    v[2] = (v[2] + v[3]) & MASK
    v[3] = _rol(v[3], 16) ^ v[2]
    v[0] = (v[0] + v[3]) & MASK
    v[3] = _rol(v[3], 21) ^ v[0]
    v[2] = (v[2] + v[1]) & MASK
    v[1] = _rol(v[1], 17) ^ v[2]
    v[2] = _rol(v[2], 32)


def hsiphash32(word: int, key: tuple[int, int]) -> int:
    """hsiphash() of one little-endian u32 (lib/siphash.c, 64-bit: SipHash-1-3)."""
    v = [
        0x736F6D6570736575 ^ key[0],
        0x646F72616E646F6D ^ key[1],
        0x6C7967656E657261 ^ key[0],
        0x7465646279746573 ^ key[1],
    ]
    last = (4 << 56) | (word & 0xFFFFFFFF)
    v[3] ^= last
    _sipround(v)
    v[0] ^= last
    v[2] ^= 0xFF
    for _ in range(3):
        _sipround(v)
    return (v[0] ^ v[1] ^ v[2] ^ v[3]) & 0xFFFFFFFF


def hashkey(address: IPv4Address, port: int, key: tuple[int, int]) -> int:
    return hsiphash32((int(address) + port) & 0xFFFFFFFF, key)


def table(servers: Sequence[RealServer]) -> list[int | None]:
    """The lookup table for real servers in kernel list order: slot → index in `servers`."""
    weights = [w for _, _, w in servers if w > 0]
    if not weights:
        return [None] * SIZE
    divisor = reduce(gcd, weights)
    shift = max((max(weights) // divisor).bit_length() - TAB_BITS, 0)
    turns = [((w // divisor) >> shift) or int(w != 0) for _, _, w in servers]
    position = [hashkey(a, p, KEY1) % SIZE for a, p, _ in servers]
    skip = [hashkey(a, p, KEY2) % (SIZE - 1) + 1 for a, p, _ in servers]
    lookup: list[int | None] = [None] * SIZE
    filled = 0
    while True:
        for index in range(len(servers)):
            for _ in range(turns[index]):
                slot = position[index]
                while lookup[slot] is not None:
                    slot = (slot + skip[index]) % SIZE
                position[index] = slot
                lookup[slot] = index
                filled += 1
                if filled == SIZE:
                    return lookup


def owners(servers: Sequence[RealServer]) -> list[RealServer | None]:
    """The table as slot → real server."""
    return [None if i is None else servers[i] for i in table(servers)]


def choose(
    servers: Sequence[RealServer], lookup: Sequence[int | None], client: IPv4Address, port: int
) -> RealServer | None:
    """The real server a new flow from client:port gets (mh-port: the source port counts)."""
    index = lookup[hashkey(client, port, KEY1) % SIZE]
    return None if index is None else servers[index]


def differing_ports(
    first: Sequence[RealServer],
    second: Sequence[RealServer],
    client: IPv4Address,
    ports: range,
) -> list[int]:
    """Source ports of `client` that two kernel orders of the same servers send elsewhere."""
    one, two = table(first), table(second)
    return [p for p in ports if choose(first, one, client, p) != choose(second, two, client, p)]
