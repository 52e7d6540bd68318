"""Break each renderer on purpose: the cross-box verifier must catch what the daemons let through.

Each case wraps one real renderer with a mutation a plausible bug would make, compiles the paper's
fabric end to end, and expects the build to stop with exit 2 and the named finding."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from ruamel.yaml import YAML

from lbgen import cli, implementations
from lbgen.compiler import compile_file
from lbgen.render import sysctl
from lbgen.render.yamldoc import dump_yaml
from tests.conftest import CASES, ROOT

PAPER = ROOT / "examples/paper.yaml"


DUAL = CASES / "valid/gobgp-router-two-reflectors/spec.yaml"


EDGE = ROOT / "examples/edge.yaml"  # FRR reflectors


IPV6 = ROOT / "examples/ipv6.yaml"  # IPv6-only: sessions over IPv6


IPV6_EBGP = ROOT / "examples/ipv6-ebgp.yaml"  # and an eBGP router


BYO = ROOT / "examples/byo-router.yaml"  # a BIRD router and an external one, dual-stack


def replacing(old: str, new: str) -> Callable[[str], str]:
    def mutate(text: str) -> str:
        assert old in text, f"the mutation no longer applies: {old!r}"
        return text.replace(old, new)

    return mutate


def editing(change: Callable[[Any], object]) -> Callable[[str], str]:
    """Change the rendered gobgpd.yaml as data, keeping its header."""

    def mutate(text: str) -> str:
        data = YAML(typ="safe").load(text)
        before = dump_yaml(data)
        change(data)
        assert dump_yaml(data) != before, "the mutation no longer applies"
        head = "".join(line + "\n" for line in text.splitlines() if line.startswith("#"))
        return head + dump_yaml(data)

    return mutate


def contract_editing(change: Callable[[Any], object]) -> Callable[[dict[str, str]], dict[str, str]]:
    """Change an external router's rendered contract.json as data."""

    def mutate(files: dict[str, str]) -> dict[str, str]:
        data = json.loads(files["contract.json"])
        before = json.dumps(data)
        change(data)
        assert json.dumps(data) != before, "the mutation no longer applies"
        return {**files, "contract.json": json.dumps(data)}

    return mutate


def contract_text(mutate: Callable[[str], str]) -> Callable[[dict[str, str]], dict[str, str]]:
    return lambda files: {**files, "contract.json": mutate(files["contract.json"])}


BREAKAGES = {
    # name: (renderer an implementation's description calls, its mutation, spec, the code)
    "frr-without-multipath": (
        "render_frr_conf",
        replacing("maximum-paths ibgp 16", "maximum-paths ibgp 1"),
        PAPER,
        "LB205",
    ),
    "frr-refuses-add-paths": (
        "render_frr_conf",
        replacing(
            "  neighbor 10.0.0.109 activate\n",
            "  neighbor 10.0.0.109 activate\n  neighbor 10.0.0.109 disable-addpath-rx\n",
        ),
        PAPER,
        "LB204",
    ),
    "frr-wrong-remote-as": (
        "render_frr_conf",
        replacing("remote-as 65021", "remote-as 65022"),
        PAPER,
        "LB202",
    ),
    "frr-neighbour-lost": (
        "render_frr_conf",
        replacing("neighbor 10.0.0.109", "neighbor 10.0.0.199"),
        PAPER,
        "LB201",
    ),
    "frr-family-not-activated": (
        "render_frr_conf",
        replacing("  neighbor 10.0.0.109 activate\n", ""),
        PAPER,
        "LB206",
    ),
    "reflector-bogus-afi-safi": (
        "render_reflector_gobgpd",
        replacing("afi-safi-name: ipv4-unicast", "afi-safi-name: ipv4-unicas"),
        PAPER,
        "LB206",
    ),
    "reflector-add-paths-too-few": (
        "render_reflector_gobgpd",
        replacing("send-max: 3", "send-max: 1"),
        PAPER,
        "LB204",
    ),
    "reflector-no-dynamic-neighbours": (
        "render_reflector_gobgpd",
        editing(lambda d: d["dynamic-neighbors"][0]["config"].update(prefix="172.16.0.0/24")),
        PAPER,
        "LB201",
    ),
    "reflector-lbs-not-clients": (
        "render_reflector_gobgpd",
        editing(
            lambda d: d["peer-groups"][0]["route-reflector"]["config"].update(
                {"route-reflector-client": False}
            )
        ),
        PAPER,
        "LB208",
    ),
    "reflector-accepts-by-default": (
        "render_reflector_gobgpd",
        replacing("default-import-policy: reject-route", "default-import-policy: accept-route"),
        PAPER,
        "LB207",
    ),
    "reflector-accepts-more-specifics": (
        "render_reflector_gobgpd",
        replacing("masklength-range: 24..24", "masklength-range: 24..32"),
        PAPER,
        "LB207",
    ),
    "reflector-any-next-hop": (
        "render_reflector_gobgpd",
        editing(
            lambda d: d["policy-definitions"][0]["statements"][0]["conditions"][
                "bgp-conditions"
            ].update({"next-hop-in-list": ["0.0.0.0/0"]})
        ),
        PAPER,
        "LB207",
    ),
    "reflector-lbs-from-anywhere": (
        "render_reflector_gobgpd",
        editing(
            lambda d: d["defined-sets"]["neighbor-sets"][0].update(
                {"neighbor-info-list": ["0.0.0.0/0"]}
            )
        ),
        PAPER,
        "LB207",
    ),
    "reflector-forgets-a-service": (
        "render_reflector_gobgpd",
        editing(lambda d: d["defined-sets"]["prefix-sets"][0]["prefix-list"].pop()),
        PAPER,
        "LB207",
    ),
    "reflector-wrong-peer-as": (
        "render_reflector_gobgpd",
        editing(lambda d: d["neighbors"][0]["config"].update({"peer-as": 65000})),
        PAPER,
        "LB202",
    ),
    "frr-reflector-lbs-not-clients": (
        "render_reflector_frr",
        replacing("  neighbor lbs-100-64-0-0-16 route-reflector-client\n", ""),
        EDGE,
        "LB208",
    ),
    "frr-reflector-listens-too-narrowly": (
        "render_reflector_frr",
        replacing("bgp listen range 100.64.0.0/16", "bgp listen range 100.64.0.0/24"),
        EDGE,
        "LB201",
    ),
    "frr-reflector-sends-one-path": (
        "render_reflector_frr",
        replacing("  neighbor 10.20.0.2 addpath-tx-all-paths\n", ""),
        EDGE,
        "LB204",
    ),
    "frr-reflector-lbs-in-another-as": (
        "render_reflector_frr",
        replacing("lbs-100-64-0-0-16 remote-as 4200000100", "lbs-100-64-0-0-16 remote-as 65000"),
        EDGE,
        "LB202",
    ),
    "frr-router-accepts-more-specifics": (
        "render_frr_conf",
        replacing("permit 10.1.1.0/24\n", "permit 10.1.1.0/24 le 32\n"),
        PAPER,
        "LB207",
    ),
    "frr-router-keeps-local-pref": (
        "render_frr_conf",
        replacing(" set local-preference 100\n", ""),
        PAPER,
        "LB207",
    ),
    "frr-router-accepts-any-as-path": (
        "render_frr_conf",
        replacing("permit ^$", "permit .*"),
        PAPER,
        "LB207",
    ),
    "frr-router-without-import-map": (
        "render_frr_conf",
        replacing("  neighbor 10.0.0.109 route-map lbgen-from-reflectors in\n", ""),
        PAPER,
        "LB207",
    ),
    "frr-router-forgets-a-service": (
        "render_frr_conf",
        replacing("ip prefix-list lbgen-prefixes-web1 seq 10 permit 10.1.2.0/24\n", ""),
        PAPER,
        "LB207",
    ),
    "frr-router-forgets-a-node": (
        "render_frr_conf",
        replacing("ip prefix-list lbgen-hops-web1 seq 15 permit 10.0.0.106/32\n", ""),
        PAPER,
        "LB207",
    ),
    "frr-reflector-sends-lbs-routes": (
        "render_reflector_frr",
        replacing("  neighbor lbs-100-64-0-0-16 route-map lbgen-none out\n", ""),
        EDGE,
        "LB213",
    ),
    "gobgpd-reflector-sends-lbs-routes": (
        "render_reflector_gobgpd",
        editing(lambda d: d["global"]["apply-policy"]["config"].pop("export-policy-list")),
        PAPER,
        "LB213",
    ),
    "gobgpd-reflector-sends-every-peer-routes": (
        "render_reflector_gobgpd",
        editing(
            lambda d: d["global"]["apply-policy"]["config"].update(
                {"default-export-policy": "accept-route"}
            )
        ),
        PAPER,
        "LB213",
    ),
    "gobgpd-reflector-counts-lbs-among-its-routers": (
        "render_reflector_gobgpd",
        editing(
            lambda d: d["defined-sets"]["neighbor-sets"][-1]["neighbor-info-list"].append(
                "10.0.0.0/8"
            )
        ),
        PAPER,
        "LB213",
    ),
    "gobgpd-reflector-sends-its-router-nothing": (
        "render_reflector_gobgpd",
        editing(
            lambda d: d["defined-sets"]["neighbor-sets"][-1].update(
                {"neighbor-info-list": ["192.0.2.1/32"]}
            )
        ),
        PAPER,
        "LB213",
    ),
    "frr-reflector-calls-an-undefined-map": (
        "render_reflector_frr",
        # FRR skips a call to a map it does not have: the route is accepted unchecked
        replacing("route-map lbgen-reset permit 10\n", "route-map lbgen-resets permit 10\n"),
        EDGE,
        "LB207",
    ),
    "frr-router-reset-map-with-a-second-entry": (
        "render_frr_conf",
        # a second entry of the called map lets in what the first one's checks refuse
        replacing(
            "route-map lbgen-from-reflectors permit 10\n",
            "route-map lbgen-reset permit 20\nroute-map lbgen-from-reflectors permit 10\n",
        ),
        PAPER,
        "LB207",
    ),
    "frr-reflector-entry-without-its-call": (
        "render_reflector_frr",
        lambda text: text.replace(" call lbgen-reset\n", "", 1),
        EDGE,
        "LB207",
    ),
    "frr-reflector-any-next-hop": (
        "render_reflector_frr",
        replacing(" match ip next-hop prefix-list lbgen-nh-n1\n", ""),
        EDGE,
        "LB207",
    ),
    "frr-reflector-no-import-map": (
        "render_reflector_frr",
        replacing("  neighbor lbs-100-64-0-0-16 route-map lbgen-from-lbs-100-64-0-0-16 in\n", ""),
        EDGE,
        "LB207",
    ),
    "frr-reflector-forgets-a-node": (
        "render_reflector_frr",
        # n5's entry names n4 as its next hop: nothing accepts via n5
        replacing(
            " match ip next-hop prefix-list lbgen-nh-n5\n",
            " match ip next-hop prefix-list lbgen-nh-n4\n",
        ),
        EDGE,
        "LB207",
    ),
    "frr-router-gtsm-on-one-end": (
        "render_frr_conf",
        # edge-a's file only: edge-b has no GTSM
        lambda text: text.replace(" neighbor 10.20.0.3 ttl-security hops 1\n", ""),
        EDGE,
        "LB210",
    ),
    # edge-b is in an AS of its own: eBGP to the reflectors (each lambda leaves edge-a alone)
    "frr-reflector-next-hop-self-towards-ebgp": (
        "render_reflector_frr",
        replacing("  neighbor 10.20.0.2 attribute-unchanged next-hop\n", ""),
        EDGE,
        "LB211",
    ),
    "frr-ebgp-router-with-ibgp-multipath": (
        "render_frr_conf",
        lambda text: text.replace("  maximum-paths 8\n", "  maximum-paths ibgp 8\n"),
        EDGE,
        "LB205",
    ),
    "frr-ebgp-router-wants-an-empty-as-path": (
        "render_frr_conf",
        lambda text: text.replace("permit ^4200000100$", "permit ^$"),
        EDGE,
        "LB207",
    ),
    "frr-ebgp-router-in-the-wrong-as": (
        "render_frr_conf",
        lambda text: text.replace("router bgp 4200000200", "router bgp 4200000300"),
        EDGE,
        "LB202",
    ),
    "frr-ipv6-router-lets-the-link-local-next-hop-win": (
        "render_frr_conf",
        replacing(" set ipv6 next-hop prefer-global\n", ""),
        IPV6_EBGP,
        "LB207",
    ),
    "frr-ipv6-only-router-without-ipv6-multipath": (
        "render_frr_conf",
        replacing("maximum-paths 16", "maximum-paths 2"),
        IPV6_EBGP,
        "LB205",
    ),
    "gobgpd-ipv6-only-reflector-carries-ipv4": (
        "render_reflector_gobgpd",
        replacing("afi-safi-name: ipv6-unicast", "afi-safi-name: ipv4-unicast"),
        IPV6,
        "LB206",
    ),
    "router-gobgpd-no-add-paths-receive": (
        "render_router_gobgpd",
        replacing("receive: true", "receive: false"),
        DUAL,
        "LB204",
    ),
    "router-gobgpd-no-multipath": (
        "render_router_gobgpd",
        editing(lambda d: d["global"]["use-multiple-paths"]["config"].update(enabled=False)),
        DUAL,
        "LB205",
    ),
    "frr-router-without-a-discard-route": (
        "render_frr_conf",
        replacing("ip route 10.1.2.0/24 reject 254\n", ""),
        PAPER,
        "LB212",
    ),
    "frr-router-discard-route-beneath-nothing": (
        "render_frr_conf",
        replacing("ip route 10.1.1.0/24 reject 254", "ip route 10.1.1.0/24 reject 20"),
        PAPER,
        "LB212",
    ),
    "frr-ipv6-router-without-an-ipv6-discard-route": (
        "render_frr_conf",
        replacing("ipv6 route 2001:db8:70::/64 reject 254\n", ""),
        IPV6,
        "LB212",
    ),
    "frr-router-daemons-without-staticd": (
        "render_frr_daemons",
        replacing("staticd=yes", "staticd=no"),
        PAPER,
        "LB212",
    ),
    "gobgp-router-without-staticd-discards": (
        "render_staticd_conf",
        replacing(" reject 254", " blackhole 254"),
        DUAL,
        "LB212",
    ),
    "bird-without-add-paths": (
        "render_bird_conf",
        lambda text: text.replace("    add paths rx;\n", ""),
        BYO,
        "LB204",
    ),
    "bird-without-multipath": (
        "render_bird_conf",
        replacing("merge paths on limit 16", "merge paths on limit 1"),
        BYO,
        "LB205",
    ),
    "bird-imports-all": (
        "render_bird_conf",
        replacing("import filter lbgen_from_reflectors4;", "import all;"),
        BYO,
        "LB207",
    ),
    "bird-filter-takes-another-next-hop": (
        "render_bird_conf",
        replacing("192.168.70.12, 192.168.70.13 ];", "192.168.70.12, 192.168.70.13, 10.9.9.9 ];"),
        BYO,
        "LB207",
    ),
    "bird-filter-accepts-the-rest": (
        "render_bird_conf",
        replacing("  reject;\n}\n\nfilter", "  accept;\n}\n\nfilter"),
        BYO,
        "LB207",
    ),
    "bird-filter-keeps-attributes": (
        "render_bird_conf",
        lambda text: text.replace("{ lbgen_reset(); accept; }", "{ accept; }"),
        BYO,
        "LB207",
    ),
    "bird-filter-any-as-path": (
        "render_bird_conf",
        replacing("  if bgp_path.len != 0 then reject;\n", ""),
        BYO,
        "LB207",
    ),
    "bird-reset-keeps-med": (
        "render_bird_conf",
        replacing("  bgp_med = 0;\n", ""),
        BYO,
        "LB207",
    ),
    "bird-exports-to-the-reflectors": (
        "render_bird_conf",
        lambda text: text.replace("export none;", "export all;"),
        BYO,
        "LB207",
    ),
    "bird-without-gtsm": (
        "render_bird_conf",
        replacing("  ttl security on;\n", ""),
        BYO,
        "LB210",
    ),
    "bird-expects-another-as": (
        "render_bird_conf",
        replacing("neighbor 192.168.70.3 as 64700;", "neighbor 192.168.70.3 as 64701;"),
        BYO,
        "LB202",
    ),
    "bird-discard-above-bgp": (
        "render_bird_conf",
        lambda text: text.replace("preference 1;", "preference 200;"),
        BYO,
        "LB212",
    ),
    "bird-without-a-discard-route": (
        "render_bird_conf",
        replacing("  route 2001:db8:70::/64 unreachable;\n", ""),
        BYO,
        "LB212",
    ),
    "contract-takes-another-next-hop": (
        "render_contract",
        contract_editing(lambda d: d["accept"][0]["next_hops"].append("10.9.9.9")),
        BYO,
        "LB207",
    ),
    "contract-without-add-paths": (
        "render_contract",
        contract_editing(lambda d: d["sessions"][0].update(add_paths_receive=False)),
        BYO,
        "LB204",
    ),
    "contract-any-as-path": (
        "render_contract",
        contract_editing(lambda d: d.update(as_path=[])),
        BYO,
        "LB207",
    ),
    "contract-one-path": (
        "render_contract",
        contract_editing(lambda d: d.update(max_paths=1)),
        BYO,
        "LB205",
    ),
    "contract-without-a-discard": (
        "render_contract",
        contract_editing(lambda d: d["discard"].pop()),
        BYO,
        "LB212",
    ),
    "contract-without-the-gtsm-the-reflector-expects": (
        "render_contract",
        contract_editing(lambda d: d["sessions"][0].update(ttl_security_hops=None)),
        BYO,
        "LB210",
    ),
    "contract-not-json": (
        "render_contract",
        contract_text(lambda text: text[:-5]),
        BYO,
        "LB200",
    ),
    "router-gobgpd-not-yaml": (
        "render_router_gobgpd",
        replacing("global:", "global: ["),
        DUAL,
        "LB200",
    ),
}


DESCRIPTIONS = (
    implementations.frr,
    implementations.bird,
    implementations.gobgp,
    implementations.external,
)


def breaking(monkeypatch: pytest.MonkeyPatch, renderer: str, mutate: Callable[[Any], Any]) -> None:
    """Every implementation's description that calls `renderer` gets its output mutated."""
    found = [module for module in DESCRIPTIONS if hasattr(module, renderer)]
    assert found, f"no implementation renders with {renderer}"
    for module in found:
        real = getattr(module, renderer)
        monkeypatch.setattr(module, renderer, lambda *a, _r=real, **k: mutate(_r(*a, **k)))


@pytest.mark.parametrize("name", sorted(BREAKAGES))
def test_a_broken_renderer_stops_the_build(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    renderer, mutate, spec, code = BREAKAGES[name]
    breaking(monkeypatch, renderer, mutate)
    result = compile_file(spec, "spec.yaml")
    assert result.internal
    assert result.tree is None
    assert code in {d.code for d in result.diagnostics if d.is_error}


def test_passive_ends_on_both_sides_are_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    passive_router = replacing(
        " neighbor 10.0.0.109 timers connect 5\n",
        " neighbor 10.0.0.109 timers connect 5\n neighbor 10.0.0.109 passive\n",
    )
    passive_rr = editing(
        lambda d: d["neighbors"][0].update({"transport": {"config": {"passive-mode": True}}})
    )
    breaking(monkeypatch, "render_frr_conf", passive_router)
    breaking(monkeypatch, "render_reflector_gobgpd", passive_rr)
    result = compile_file(PAPER, "spec.yaml")
    assert {d.code for d in result.diagnostics} == {"LB203"}


def test_a_sysctl_without_the_multipath_hash_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    real = sysctl.render_sysctl
    monkeypatch.setattr(
        sysctl,
        "render_sysctl",
        lambda *a: real(*a).replace(
            "net.ipv4.fib_multipath_hash_policy = 1", "net.ipv4.fib_multipath_hash_policy = 0"
        ),
    )
    result = compile_file(PAPER, "spec.yaml")
    assert {d.code for d in result.diagnostics} == {"LB209"}


def test_the_cli_exits_2_and_writes_nothing_when_its_own_output_is_broken(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object, capsys: pytest.CaptureFixture[str]
) -> None:
    breaking(monkeypatch, "render_frr_conf", replacing("remote-as 65021", "remote-as 1"))
    monkeypatch.chdir(str(tmp_path))
    assert cli.main(["build", str(PAPER)]) == 2
    said = capsys.readouterr().out
    assert "routers/router/frr.conf:" in said
    assert "error[LB202]" in said
    assert "bug in lbgen" in said
    assert not (tmp_path / "out").exists()  # type: ignore[operator]
