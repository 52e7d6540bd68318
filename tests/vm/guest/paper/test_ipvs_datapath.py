"""The paper's fabric on a kernel with IPVS (lbgen's VM): every LB pod runs its four containers
as the compiled Deployment says, IPVS forwards client traffic to the backends, every LB of a
service holds its pool in one kernel order whatever happened to it (so Maglev hashing picks the
same backend for a flow on every LB). The tests run in order on the package's testbed; each says
what it leaves behind (web1 keeps its fifth backend, 172.16.1.50)."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from ipaddress import IPv4Address

from lbgen.contract import KEEPALIVED
from lbgen.render.keepalived import RealServer
from lbgen.runtime.hook.order import wanted_orders
from lbgen.testbed.bed import Testbed
from lbgen.testbed.clients.asking import Held, ask_from_ports
from lbgen.testbed.clients.flows import fields
from lbgen.testbed.host.netns import inside
from lbgen.testbed.model.pods import pod_spec
from tests.support.ipvs_mh import choose, differing_ports, owners, table
from tests.support.waiting import wait_for
from tests.vm.conftest import Record, tally
from tests.vm.guest.paper.across import lbs_of

HTTP = ("http", "TCP")
PORT = 8080  # the backends' target port


def in_pod(bed: Testbed, name: str, *argv: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        inside(bed.lb(name).box.netns, *argv),
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def backends_of(bed: Testbed, service: str) -> list[IPv4Address]:
    return [a for b in bed.layout.backends if b.service == service and (a := b.box.address)]


def order(bed: Testbed, lb: str, vip: str, port: int = 80) -> tuple[IPv4Address, ...]:
    """The kernel's list of a virtual server's real servers (head first)."""
    held = bed.see.ipvs(lb).get(("TCP", IPv4Address(vip), port), ())
    return tuple(a for (a, _port), _weight in held if isinstance(a, IPv4Address))


def fresh_order(
    bed: Testbed, service: str, addresses: list[IPv4Address]
) -> tuple[IPv4Address, ...]:
    """The order a freshly started keepalived builds for this pool (lbgen.runtime.hook.order)."""
    pools = {HTTP: tuple(RealServer(a, PORT) for a in addresses)}
    ((_, wanted),) = wanted_orders(bed.service(service), pools).items()
    return tuple(a for a, _port in wanted if isinstance(a, IPv4Address))


def servers(addresses: tuple[IPv4Address, ...]) -> list[tuple[IPv4Address, int, int]]:
    return [(a, PORT, 1) for a in addresses]


def predict(
    kernel_order: tuple[IPv4Address, ...], client: IPv4Address, ports: list[int]
) -> dict[int, str]:
    """The backend (address) the kernel-exact model says each flow gets."""
    lookup = table(servers(kernel_order))
    chosen = {p: choose(servers(kernel_order), lookup, client, p) for p in ports}
    return {p: str(c[0]) if c else "none" for p, c in chosen.items()}


def probe_every_lb(
    bed: Testbed, probe: str, client: IPv4Address, service: str, ports: list[int]
) -> dict[str, dict[int, str]]:
    """From one client address, the backend (its address) of each source port's flow, through
    each LB of the service in turn: the probe routes the prefix through that LB's node."""
    plan = bed.service(service)
    found = {}
    for name in lbs_of(bed, service):
        lb = bed.lb(name)
        subprocess.run(
            ["ip", "-n", probe, "route", "replace", str(plan.prefix), "via", str(lb.node_address)],
            check=True,
        )
        answers = ask_from_ports(probe, str(client), str(plan.vips[0]), 80, ports)
        found[name] = {p: fields(a).get("at", a) for p, a in answers.items()}
    return found


def differing_slots(bed: Testbed, service: str) -> int:
    """Slots of the mh table (the model's, from each LB's kernel list and weights) where some LB
    of the service differs from the first."""
    vip = bed.service(service).vips[0]
    tables = [
        owners([(a, p, w) for (a, p), w in bed.see.ipvs(name)[("TCP", vip, 80)] if a.version == 4])
        for name in lbs_of(bed, service)
    ]
    return sum(1 for slots in zip(*tables, strict=True) if len(set(slots)) > 1)


def one_backend_per_flow(
    bed: Testbed, client: IPv4Address, ports: list[int], kernel_order: tuple[IPv4Address, ...]
) -> int:
    """From a new address of the probe box, each source port's flow through each LB of web1:
    every LB answers each flow from the backend the kernel-exact model predicts for the order.
    Returns how many LBs were probed."""
    probe = f"{bed.prefix}probe"
    subprocess.run(["ip", "-n", probe, "addr", "add", f"{client}/16", "dev", "eth0"], check=True)
    seen = probe_every_lb(bed, probe, client, "web1", ports)
    predicted = predict(kernel_order, client, ports)
    for name, answers in seen.items():
        assert answers == predicted, name
    return len(seen)


# ---- the datapath


def test_every_service_is_forwarded_by_ipvs_to_its_own_backends(
    bed: Testbed, record: Record
) -> None:
    for service in bed.plan.services:
        answers = [fields(a) for a in bed.see.ask(str(service.vips[0]), 80, 40)]
        lb_addresses = {str(bed.lb(n).box.address) for n in lbs_of(bed, service.name)}
        assert {a["at"] for a in answers} == {str(b) for b in backends_of(bed, service.name)}
        # masqueraded: the backend saw an LB pod of this service, and ECMP used several
        assert {a["peer"] for a in answers} <= lb_addresses
        assert len({a["peer"] for a in answers}) >= 2
        record(f"traffic.{service.name}", tally(answers))


def test_each_lb_pod_set_its_datapath_up_as_its_deployment_says(bed: Testbed) -> None:
    for lb in bed.lbs:
        spec = pod_spec(bed.tree, lb.service)
        for key, value in spec.sysctls:
            assert in_pod(bed, lb.box.name, "sysctl", "-n", key).strip() == value, key
        assert "masquerade" in in_pod(bed, lb.box.name, "nft", "list", "table", "ip", "lbgen")
        prefix = str(bed.service(lb.service).prefix)
        assert "local " + prefix in in_pod(
            bed, lb.box.name, "ip", "route", "show", "table", "local"
        )
        service = bed.service(lb.service)
        held = bed.see.ipvs(lb.box.name)
        for vip in service.vips:
            for port in service.ports:
                assert len(held[(port.protocol, vip, port.port)]) == 2


def test_every_lb_of_a_service_holds_its_pool_in_the_order_a_fresh_keepalived_builds(
    bed: Testbed,
) -> None:
    for service in bed.plan.services:
        wanted = fresh_order(bed, service.name, backends_of(bed, service.name))
        for name in lbs_of(bed, service.name):
            assert order(bed, name, str(service.vips[0])) == wanted, name


# ---- consistent hashing across LBs, whatever their history

NEW_BACKEND = IPv4Address("172.16.1.50")  # sorts before web1's backends


def test_an_endpoint_added_out_of_order_is_put_in_order_on_every_lb_cutting_no_connection(
    bed: Testbed, record: Record
) -> None:
    """keepalived adds the new server at the head of the kernel list, where a fresh keepalived
    would have it last: each LB's hook takes the others out and puts them back. Connections
    held through one LB to the servers taken out go on, each with its backend."""
    lbs = lbs_of(bed, "web1")
    old = backends_of(bed, "web1")
    incremental = (NEW_BACKEND, *fresh_order(bed, "web1", old))
    wanted = fresh_order(bed, "web1", [*old, NEW_BACKEND])
    assert incremental != wanted
    probe = bed.net.add_probe("probe", IPv4Address("10.0.200.1"))
    first = bed.lb(lbs[0])
    subprocess.run(
        ["ip", "-n", probe, "route", "replace", "10.1.1.0/24", "via", str(first.node_address)],
        check=True,
    )
    held = Held(probe, "10.1.1.1", 80, 16, bind="10.0.200.1")
    bed.workloads.add_backend("web1", "node1", NEW_BACKEND)
    bed.workloads.set_endpoints("web1", [*old, NEW_BACKEND])
    wait_for(
        lambda: all(order(bed, n, "10.1.1.1") == wanted for n in lbs),
        timeout=120,
        what="every LB in the fresh order",
    )
    assert differing_slots(bed, "web1") == 0
    results = held.finish()
    broken = [r for r in results if "broken" in r]
    assert not broken, broken
    assert all(r["after"]["at"] == r["before"]["at"] for r in results)
    moved = {str(a) for a in wanted[: wanted.index(NEW_BACKEND)]}
    assert {r["before"]["at"] for r in results} <= moved  # every one went through it
    for name in lbs:
        url = f"http://{bed.lb(name).box.address}:9153/metrics"
        code = f"import urllib.request as u; print(u.urlopen('{url}').read().decode())"
        metrics = in_pod(bed, name, sys.executable, "-c", code)
        done = re.search(r'lbgen_hook_ipvs_reorders_total\{result="done"\} (\S+)', metrics)
        assert done is not None, name
        assert float(done.group(1)) >= 1, name
    # the flows a wrong order sends elsewhere (the model finds them: ~1 slot in 400) go to
    # the same backend through every LB, the one the kernel-exact model predicts
    client = IPv4Address("10.0.200.2")
    ports = differing_ports(servers(incremental), servers(wanted), client, range(1024, 65536))
    assert ports
    controls = list(range(40000, 40100))
    probed = one_backend_per_flow(bed, client, ports + controls, wanted)
    record(
        "mh.endpoint_added",
        {
            "order_after_incremental_add": [str(a) for a in incremental],
            "fresh_order": [str(a) for a in wanted],
            "held_connections": len(results),
            "held_connections_broken": len(broken),
            "order_sensitive_ports_probed": len(ports),
            "control_ports_probed": len(controls),
            "lbs": probed,
            "answers_differing_from_the_model": 0,
            "mh_slots_differing_between_lbs": 0,
        },
    )


def test_a_health_flap_seen_by_one_lb_only_leaves_every_lb_in_one_order(
    bed: Testbed, record: Record
) -> None:
    """inhibit_on_failure: a failing server gets weight 0 and keeps its place in the list."""
    lbs = lbs_of(bed, "web1")
    pool = [*backends_of(bed, "web1"), NEW_BACKEND]
    wanted = fresh_order(bed, "web1", pool)
    flapping, target = bed.lb(lbs[1]), pool[0]
    rule = (
        "table ip flap {\n chain out {\n  type filter hook output priority 0; policy accept;\n"
        f"  ip saddr {flapping.box.address} ip daddr {target} tcp dport {PORT} drop\n }}\n}}\n"
    )
    in_pod(bed, lbs[1], "nft", "-f", "-", stdin=rule)

    def weight(of: IPv4Address) -> int:
        held = bed.see.ipvs(lbs[1])[("TCP", IPv4Address("10.1.1.1"), 80)]
        return next(w for (address, _p), w in held if address == of)

    try:
        wait_for(lambda: weight(target) == 0, timeout=60, what="the failing server inhibited")
        assert order(bed, lbs[1], "10.1.1.1") == wanted
    finally:
        in_pod(bed, lbs[1], "nft", "delete", "table", "ip", "flap")
    wait_for(lambda: weight(target) == 1, timeout=60, what="the server back")
    for name in lbs:
        assert order(bed, name, "10.1.1.1") == wanted, name
    assert differing_slots(bed, "web1") == 0
    ports = list(range(41000, 41150))
    probed = one_backend_per_flow(bed, IPv4Address("10.0.200.3"), ports, wanted)
    record("mh.health_flap", {"lbs_agreeing": probed, "ports_probed": len(ports)})


def test_a_keepalived_killed_or_stopped_and_restarted_rejoins_the_same_order(
    bed: Testbed, record: Record
) -> None:
    """A container restart: SIGKILL leaves IPVS as it was for the new keepalived; SIGTERM lets
    keepalived remove its virtual servers, and the new one builds them afresh."""
    lbs = lbs_of(bed, "web1")
    wanted = fresh_order(bed, "web1", [*backends_of(bed, "web1"), NEW_BACKEND])
    for sig in (signal.SIGKILL, signal.SIGTERM):
        bed.faults.restart(lbs[2], KEEPALIVED, sig)
        wait_for(
            lambda: order(bed, lbs[2], "10.1.1.1") == wanted,
            timeout=90,
            what=f"the pool back after a {sig.name}",
        )
    assert differing_slots(bed, "web1") == 0
    one_backend_per_flow(bed, IPv4Address("10.0.200.4"), list(range(42000, 42150)), wanted)
    record("mh.keepalived_restarts", {"signals": ["SIGKILL", "SIGTERM"], "ports_probed": 150})
