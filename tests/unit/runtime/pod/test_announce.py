"""The announcer: which prefix an LB pod announces, per family, from what its datapath can serve
(lbgen.runtime.pod.health), with rise/fall counts and a hold-down; what it tells exabgp and
/metrics."""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable
from ipaddress import IPv6Address
from pathlib import Path

import pytest

from lbgen.compiler import compile_file
from lbgen.plan import PodConfig
from lbgen.runtime.pod.announce import Announcer, Gate, Route, Sessions, routes
from tests.conftest import ROOT
from tests.support.podrun import pod_run


def _updates_in_30_s(ok_at: Callable[[int, float], bool]) -> list[bool]:
    """The gate's changes over 30 s of checks at the announcer's cadence (1 s, 0.25 s while a
    change is pending), the datapath's state at each check given by `ok_at(check, time)`."""
    gate = Gate(rise=2, fall=2, hold_down=5)
    gate.check(True, -2)
    gate.check(True, -1)  # announced, as before the flapping starts
    found, now, step = [], 0.0, 0
    while now < 30:
        change = gate.check(ok_at(step, now), now)
        if change is not None:
            found.append(change)
        now += 0.25 if gate.pending else 1.0
        step += 1
    return found


def _dual_stack(tmp_path: Path) -> tuple[Announcer, list[str], Path]:
    plan = compile_file(ROOT / "examples/dualstack.yaml", "examples/dualstack.yaml").plan
    assert plan is not None
    web = next(s for s in plan.services if s.name == "web")
    service = json.loads(PodConfig(header="h", source="s", service=web).model_dump_json())
    said: list[str] = []
    given = [(str(web.prefix), "192.168.60.11"), (str(web.prefix6), "fd00:60::11")]
    announcer = Announcer(service["service"], routes(service["service"], given), {}, said.append)
    announcer.run = pod_run(tmp_path / "run", [])
    return announcer, said, tmp_path


def _ipvs(*lines: str) -> str:
    return "IP Virtual Server version 1.2.1 (size=4096)\n" + "".join(f"{x}\n" for x in lines)


FOUR = "TCP  CB007141:0050 mh"


SIX = "TCP  [2001:0db8:0064:0000:0000:0000:0000:0080]:0050 mh"


FOUR_SERVER = "  -> 0A3C0264:1F90      Masq    1      0          0"


SIX_SERVER = "  -> [fd00:0061:0000:0002:0000:0000:0000:0100]:1F90      Masq    1      0          0"


def test_rise_and_fall_count_checks_in_a_row() -> None:
    gate = Gate(rise=2, fall=2, hold_down=5)
    assert [gate.check(True, t) for t in (0, 1)] == [None, True]
    assert [gate.check(False, t) for t in (2, 3)] == [None, False]
    assert gate.changes == 1  # the first announcement is no change
    # one failing check between passing ones changes nothing
    gate = Gate(rise=1, fall=2, hold_down=0)
    assert gate.check(True, 0) is True
    assert [gate.check(ok, t) for t, ok in enumerate([False, True, False, True], 1)] == [None] * 4


def test_the_hold_down_grows_while_an_announcement_keeps_failing_and_heals() -> None:
    gate = Gate(rise=1, fall=1, hold_down=5)
    assert gate.check(True, 0) is True
    assert gate.check(False, 100) is False  # withdrawn: 5 s before it may come back
    assert gate.check(True, 104) is None
    assert gate.check(True, 105) is True
    assert gate.check(False, 106) is False  # lasted 1 s: the hold-down doubles
    assert gate.check(True, 115) is None
    assert gate.check(True, 116) is True
    assert gate.check(False, 117) is False
    assert gate.hold == 20
    assert gate.check(True, 137) is True
    assert gate.check(False, 300) is False  # held 163 s: back to the base
    assert gate.hold == 5


def test_a_check_flapping_at_2_hz_for_30_s_makes_a_handful_of_updates() -> None:
    rng = random.Random(7)
    # up for 0.25 s, down for 0.25 s; each check lands up to half a period late, so it sees
    # either (without the jitter a 1 s cadence would see the same phase every time)
    square = _updates_in_30_s(lambda _i, t: (t + rng.uniform(0, 0.5)) % 0.5 < 0.25)
    # the worst case for rise/fall: failing for `fall` checks, then passing for `rise`
    adversary = _updates_in_30_s(lambda i, _t: i % 4 >= 2)
    for updates in (square, adversary):
        assert 1 <= len(updates) <= 6, updates  # of 60 flaps; each withdrawal ≥ 5 s, then 10, 20


def test_routes_are_the_services_own_prefixes_with_a_next_hop_of_their_family() -> None:
    service = {"prefix": "10.1.1.0/24", "prefix6": "2001:db8::/64"}
    given = [("2001:db8::/64", "fd00::4"), ("10.1.1.0/24", "10.0.0.4")]
    assert routes(service, given) == [
        Route(4, "10.1.1.0/24", "10.0.0.4"),
        Route(6, "2001:db8::/64", "fd00::4"),
    ]
    assert Route(4, "10.1.1.0/24", "10.0.0.4").command(False) == (
        "withdraw route 10.1.1.0/24 next-hop 10.0.0.4"
    )
    for bad in [("10.9.0.0/24", "10.0.0.4"), ("10.1.1.0/24", "fd00::4")]:
        with pytest.raises(ValueError, match="not a route of this service"):
            routes(service, [bad])


def test_sessions_follow_exabgps_neighbour_changes() -> None:
    sessions = Sessions({"10.0.0.109": "rr"})
    up = {
        "type": "state",
        "neighbor": {"address": {"local": "172.16.4.10", "peer": "10.0.0.109"}, "state": "up"},
    }
    for line in ["done", "not json {", json.dumps({"type": "notification"}), json.dumps(up)]:
        sessions.read(line)
    assert sessions.state() == {"rr": True}
    sessions.read(json.dumps({**up, "neighbor": {**up["neighbor"], "state": "down"}}))
    sessions.read("error")
    assert sessions.state() == {"rr": False}
    assert sessions.errors == 1


def test_an_emptied_ipv6_pool_withdraws_only_the_ipv6_prefix(tmp_path: Path) -> None:
    announcer, said, folder = _dual_stack(tmp_path)
    table = folder / "ip_vs"
    announcer.env = {"LBGEN_IPVS_TABLE": str(table)}
    (announcer.run / "keepalived.pid").write_text(f"{os.getpid()}\n")
    table.write_text(_ipvs(FOUR, FOUR_SERVER, SIX, SIX_SERVER))
    announcer.step()
    announcer.step()
    assert said == [
        "announce route 203.0.113.64/28 next-hop 192.168.60.11",
        "announce route 2001:db8:64::/64 next-hop fd00:60::11",
    ]
    table.write_text(_ipvs(FOUR, FOUR_SERVER, SIX))
    announcer.step()
    announcer.step()
    assert said[2:] == ["withdraw route 2001:db8:64::/64 next-hop fd00:60::11"]
    status = json.loads((announcer.run / "announce.json").read_text())
    assert status["families"]["ipv4"] == {"announced": True, "changes": 0, "problems": []}
    assert status["families"]["ipv6"]["announced"] is False
    assert status["families"]["ipv6"]["changes"] == 1
    assert status["sessions"] == {"rr-frr": False, "rr-go": False}


def test_an_ipv6_session_peer_is_matched_by_its_address() -> None:
    sessions = Sessions({str(IPv6Address("fd00:70::2")): "rr"})
    line = {"type": "state", "neighbor": {"address": {"peer": "fd00:70:0::2"}, "state": "up"}}
    sessions.read(json.dumps(line))
    assert sessions.state() == {"rr": True}
