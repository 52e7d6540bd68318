"""What a network team would write from an external router's contract.json alone: a BIRD 2
config, by a translator that knows nothing of lbgen but that file's JSON (it imports none of
lbgen's renderers). The testbed runs BIRD on it in the router's place."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

SAFE = frozenset("0123456789abcdefABCDEF.:/")


def _token(value: Any) -> str:
    """An address, prefix or number from the JSON, refused if it could be anything else."""
    text = str(value)
    if not text or not set(text) <= SAFE:
        raise ValueError(f"not an address, prefix or number: {text!r}")
    return text


def contract_to_bird(text: str, password: Callable[[str], str] | None = None) -> str:
    """bird.conf for the router `text` (contract.json) describes. `password`: the password in
    a file the contract names (on the reflectors' boxes), for sessions that have one."""
    contract = json.loads(text)
    assert contract["kind"] == "lbgen.io/router-contract"
    assert contract["version"] == 1
    families = sorted({f for s in contract["sessions"] for f in s["families"]})
    channels = {"ipv4-unicast": "ipv4", "ipv6-unicast": "ipv6"}
    lines = [f"router id {_token(contract['router_id'])};", "protocol device { scan time 10; }"]
    for family in families:
        channel = channels[family]
        routes = [p for p in contract["discard"] if (":" in p) == (channel == "ipv6")]
        if routes:
            lines += [f"protocol static discard_{channel} {{ {channel} {{ preference 1; }};"]
            lines += [f"  route {_token(p)} unreachable;" for p in routes] + ["}"]
        lines += [
            f"protocol kernel kernel_{channel} {{",
            f"  {channel} {{ import none; export where source ~ [ RTS_BGP, RTS_STATIC ]; }};",
            f"  merge paths on limit {int(contract['max_paths'])};",
            "}",
        ]
        path = contract["as_path"]
        test = (
            "bgp_path.len != 0"
            if not path
            else f"bgp_path.len != 1 || bgp_path.first != {int(path[0])}"
        )
        lines += [f"filter from_fabric_{channel} {{", f"  if {test} then reject;"]
        for entry in contract["accept"]:
            if entry["family"] != family:
                continue
            prefixes = ", ".join(_token(p) for p in entry["prefixes"])
            hops = ", ".join(_token(h) for h in entry["next_hops"])
            lines.append(
                f"  if net ~ [ {prefixes} ] && bgp_next_hop ~ [ {hops} ] then {{"
                " bgp_local_pref = 100; bgp_med = 0; bgp_community = -empty-;"
                " bgp_ext_community = --empty--; bgp_large_community = ---empty---; accept; }"
            )
        lines += ["  reject;", "}"]
    for index, session in enumerate(contract["sessions"]):
        lines += [
            f"protocol bgp reflector{index} {{",
            f"  local {_token(session['local_address'])} as {int(session['local_asn'])};",
            f"  neighbor {_token(session['address'])} as {int(session['asn'])};",
            "  direct;",
            f"  hold time {int(session['hold_time'])}; keepalive time {int(session['keepalive'])};",
            f"  connect retry time {int(session['connect_retry'])};",
        ]
        if session["ttl_security_hops"] is not None:
            assert session["ttl_security_hops"] == 1, "a direct session: one hop"
            lines.append("  ttl security on;")
        if session["password_file"] is not None:
            assert password is not None, "the contract asks for a password"
            lines.append(f'  password "{password(session["password_file"])}";')
        for family in session["families"]:
            channel = channels[family]
            rx = "add paths rx; " if session["add_paths_receive"] else ""
            assert session["export"] == "nothing"
            lines.append(
                f"  {channel} {{ import filter from_fabric_{channel}; export none; {rx}"
                "gateway direct;"
                + (" next hop prefer global;" if channel == "ipv6" else "")
                + " };"
            )
        lines.append("}")
    return "\n".join(lines) + "\n"
