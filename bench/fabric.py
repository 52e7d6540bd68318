"""Spec texts of big fabrics for the scale benches: services over nodes, a third IPv4-only, a
third IPv6-only, a third dual-stack; half the services pinned to a rack by nodeSelector; a
gobgpd and an FRR reflector, two FRR routers; every node with its pod subnets."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

RACKS = 20


def scale_spec(services: int, nodes: int, name: str = "scale", *, ipv6: bool = True) -> str:
    """`ipv6` False: every service IPv4-only (a third IPv6-only, a third dual-stack else)."""
    lines = [
        "apiVersion: lbgen.io/v1alpha1",
        "kind: Fabric",
        f"metadata: {{name: {name}}}",
        "spec:",
        "  asn: 64512",
        "  networks:",
        "    nodes: 10.0.0.0/16",
        "    pods: 172.16.0.0/12",
        '    nodes6: "fd00:10::/64"',
        '    pods6: "fd00:20::/48"',
        "  routers:",
        '    - {name: edge-a, address: 10.0.0.1, address6: "fd00:10::1", maxPaths: 64}',
        '    - {name: edge-b, address: 10.0.0.2, address6: "fd00:10::2", maxPaths: 64}',
        # the routers lbgen does not run as FRR: BIRD, and one it only writes a contract for
        '    - {name: edge-c, address: 10.0.0.5, address6: "fd00:10::5", maxPaths: 64,'
        " implementation: bird}",
        '    - {name: edge-d, address: 10.0.0.6, address6: "fd00:10::6", maxPaths: 64,'
        " implementation: external}",
        "  reflectors:",
        "    - {name: rr-go, address: 10.0.0.3}",
        '    - {name: rr-frr, address: 10.0.0.4, address6: "fd00:10::4", implementation: frr}',
        "  nodes:",
    ]
    base, base6 = IPv4Address("10.0.4.0"), IPv6Address("fd00:10::1000")
    pods, pods6 = IPv4Network("172.16.0.0/24"), IPv6Network("fd00:20::/64")
    for n in range(nodes):
        subnet = IPv4Network((int(pods.network_address) + 256 * n, 24))
        subnet6 = IPv6Network((int(pods6.network_address) + (n << 64), 64))
        lines.append(
            f'    - {{name: node{n:04d}, address: {base + n}, address6: "{base6 + n}", '
            f'podSubnet: {subnet}, podSubnet6: "{subnet6}", labels: {{rack: r{n % RACKS}}}}}'
        )
    lines.append("  services:")
    first, first6 = IPv4Network("100.64.0.0/28"), IPv6Network("2001:db8::/64")
    for s in range(services):
        prefix = IPv4Network((int(first.network_address) + 16 * s, 28))
        prefix6 = IPv6Network((int(first6.network_address) + (s << 64), 64))
        lines.append(f"    - name: svc{s:05d}")
        lines.append("      namespace: apps")
        if s % 3 != 1 or not ipv6:
            lines.append(f"      prefix: {prefix}")
        if s % 3 != 0 and ipv6:
            lines.append(f'      prefix6: "{prefix6}"')
        selector = f", nodeSelector: {{rack: r{s % RACKS}}}" if s % 2 else ""
        lines += [
            "      ports: [{name: http, port: 80}, {name: https, port: 443}]",
            f"      backend: {{service: backend{s:05d}, port: http}}",
            f"      loadBalancers: {{replicas: {2 + s % 3}{selector}}}",
        ]
    return "\n".join(lines) + "\n"
