"""lbgen/render/k8s/lb.py: an LB pod's Deployment mounts the BGP password's Secret in exabgp's
container alone, and out/ names the Secret, never its content."""

from __future__ import annotations

from ruamel.yaml import YAML

from tests.unit.conftest import EdgeDns


def test_the_secret_reaches_exabgps_container_alone_and_out_names_it_only(
    edge_dns: EdgeDns,
) -> None:
    tree, config = edge_dns
    assert [rr.password_file for rr in config.service.reflectors] == [
        "/var/run/secrets/lbgen.io/bgp/rr-a",
        "/var/run/secrets/lbgen.io/bgp/rr-b",
    ]
    spec = YAML(typ="safe").load(tree["cluster/services/dns/deployment.yaml"])["spec"]
    pod = spec["template"]["spec"]
    volume = next(v for v in pod["volumes"] if v["name"] == "bgp-passwords")
    assert volume["projected"]["defaultMode"] == 0o440
    assert volume["projected"]["sources"] == [
        {"secret": {"name": "lbgen-bgp", "items": [{"key": "rr-a", "path": "rr-a"}]}},
        {"secret": {"name": "lbgen-bgp", "items": [{"key": "rr-b", "path": "rr-b"}]}},
    ]
    mounting = [
        c["name"]
        for c in [*pod["initContainers"], *pod["containers"]]
        if any(m["name"] == "bgp-passwords" for m in c["volumeMounts"])
    ]
    assert mounting == ["exabgp"]
