"""Hostile strings never change a config's syntax. The schema refuses them (tests/cases); if one
got past it, each line-oriented renderer refuses to render (render/text.py), and the structured
ones (gobgpd YAML, Kubernetes manifests) quote it so it parses back as the same string."""

from __future__ import annotations

from collections.abc import Callable
from ipaddress import IPv4Address

import pytest
from ruamel.yaml import YAML

from lbgen.compiler import compile_file, compile_text
from lbgen.passwords import Password
from lbgen.plan import BoxPassword, BoxPasswords, Plan, ServicePlan
from lbgen.render import k8s
from lbgen.render.exabgp import render_exabgp
from lbgen.render.frr import render_frr_conf, render_frr_passwords, render_reflector_frr
from lbgen.render.gobgp import render_router_gobgpd
from lbgen.render.keepalived import RealServer, render_keepalived
from lbgen.render.sysctl import Setting, render_modules, render_sysctl
from lbgen.render.text import UnsafeValueError
from tests.conftest import ANNOUNCER, CASES, ROOT

HOSTILE = [
    "x\nip route 0.0.0.0/0 10.9.9.9",  # a new line: a live config line
    "x\r\n}",  # a CR, then a block close
    "x y",  # a space: the value ends early
    "x#y",  # a comment starts
    "x!y",  # FRR's and keepalived's comment
    'x"y',  # a quote
    "x{y",  # a block opens
    "x;y",  # exabgp's statement end
    "x\u2028y",  # Unicode's line separator
    "x\x00y",  # NUL
]


@pytest.fixture(scope="module")
def plan() -> Plan:
    found = compile_file(ROOT / "examples/paper.yaml", "examples/paper.yaml").plan
    assert found is not None
    return found


def _web1(plan: Plan, **health: object) -> ServicePlan:
    service = plan.services[0]
    return service.model_copy(
        update={"health_check": service.health_check.model_copy(update=health)}
    )


RENDERERS: dict[str, Callable[[Plan, str], str]] = {
    "keepalived health path": lambda plan, bad: render_keepalived(
        _web1(plan, type="http", path=bad), {}, "s"
    ),
    "keepalived namespace": lambda plan, bad: render_keepalived(
        plan.services[0].model_copy(update={"namespace": bad}), {}, "s"
    ),
    "frr router name": lambda plan, bad: render_frr_conf(
        plan.routers[0].model_copy(update={"name": bad}), "s"
    ),
    "frr reflector name": lambda plan, bad: render_reflector_frr(
        plan.reflectors[0].model_copy(update={"name": bad}), "s"
    ),
    "frr password line": lambda plan, bad: render_frr_passwords(
        BoxPasswords(header="h", source="s", asn=plan.asn, passwords=()),
        [(BoxPassword(neighbor="10.0.0.109", file="/f"), bad)],
    ),
    "exabgp password": lambda plan, bad: render_exabgp(
        plan.services[0],
        IPv4Address("172.16.4.10"),
        IPv4Address("10.0.0.104"),
        "s",
        {plan.reflectors[0].name: bad},
        announcer=ANNOUNCER,
    ),
    "exabgp service name": lambda plan, bad: render_exabgp(
        plan.services[0].model_copy(update={"name": bad}),
        IPv4Address("172.16.4.10"),
        IPv4Address("10.0.0.104"),
        "s",
        announcer=ANNOUNCER,
    ),
    "exabgp announcer command": lambda plan, bad: render_exabgp(
        plan.services[0],
        IPv4Address("172.16.4.10"),
        IPv4Address("10.0.0.104"),
        "s",
        announcer=(bad, "-m", "lbgen"),
    ),
    "sysctl value": lambda _plan, bad: render_sysctl(
        "s", (Setting("net.ipv4.ip_forward", bad, "why"),)
    ),
    "modules-load module": lambda plan, bad: render_modules(
        "s", plan.nodes[0].model_copy(update={"ipvs_modules": (bad,)})
    ),
}


@pytest.mark.parametrize("bad", HOSTILE, ids=[repr(h) for h in HOSTILE])
@pytest.mark.parametrize("target", RENDERERS)
def test_each_line_oriented_renderer_refuses_a_hostile_value(
    plan: Plan, target: str, bad: str
) -> None:
    with pytest.raises(UnsafeValueError, match="reads as syntax"):
        RENDERERS[target](plan, bad)


def test_a_refused_password_is_never_shown(plan: Plan) -> None:
    with pytest.raises(UnsafeValueError) as raised:
        RENDERERS["exabgp password"](plan, Password("hunter2;"))
    assert "hunter2" not in str(raised.value)
    assert "(a password, not shown)" in str(raised.value)


def test_legitimate_values_still_render(plan: Plan) -> None:
    pool = {("http", "TCP"): (RealServer(IPv4Address("172.16.1.5"), 8080),)}
    text = render_keepalived(_web1(plan, type="http", path="/healthz?probe=lb&x=1"), pool, "s")
    assert "                path /healthz?probe=lb&x=1\n" in text


@pytest.mark.parametrize("bad", HOSTILE, ids=[repr(h) for h in HOSTILE])
def test_gobgpd_yaml_carries_a_hostile_string_as_that_string(plan: Plan, bad: str) -> None:
    router = plan.routers[0].model_copy(update={"zebra_socket": bad, "zebra_software": bad})
    data = YAML(typ="safe").load(render_router_gobgpd(router, "s"))
    assert data["zebra"]["config"]["url"] == bad
    assert data["zebra"]["config"]["software-name"] == bad


@pytest.mark.parametrize("bad", HOSTILE, ids=[repr(h) for h in HOSTILE])
def test_kubernetes_yaml_carries_a_hostile_string_as_that_string(plan: Plan, bad: str) -> None:
    kube = plan.kube.model_copy(update={"image": bad})
    service = plan.services[0].model_copy(update={"kube": kube})
    docs = list(YAML(typ="safe").load_all(k8s.dump_manifests("s", [k8s.deployment(plan, service)])))
    assert len(docs) == 1
    containers = docs[0]["spec"]["template"]["spec"]["containers"]
    assert {c["image"] for c in containers} == {bad}


def test_a_spec_file_name_never_reaches_a_header_raw() -> None:
    text = (CASES / "valid/minimal-defaults/spec.yaml").read_text()
    result = compile_text(text, "site\nip route 0.0.0.0/0 10.9.9.9\n.yaml")
    assert result.tree is not None
    for path, rendered in result.tree.items():
        assert "ip route 0.0.0.0/0" not in rendered, path
    frr = result.tree["routers/gw/frr.conf"]
    assert frr.splitlines()[0] == (
        "! generated by lbgen from site_ip_route_0.0.0.0/0_10.9.9.9_.yaml — do not edit"
    )
