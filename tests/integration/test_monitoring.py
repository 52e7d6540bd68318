"""spec.kubernetes.monitoring (issue 19): the PodMonitor and PrometheusRule lbgen writes are
accepted by the Prometheus Operator's CRD schemas (as the API server validates them on apply)
and by `promtool check rules`; `promtool test rules` shows each alert firing on the metrics an
LB pod serves."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ruamel.yaml import YAML

from lbgen.compiler import compile_file
from lbgen.render.yamldoc import dump_yaml
from tests.conftest import ROOT, require_tool

CRDS = ROOT / "tests/schemas/prometheus-operator"


def _load_all(text: str) -> list[Any]:
    return [doc for doc in YAML(typ="safe").load_all(text) if doc]


@pytest.fixture(scope="module")
def objects() -> dict[str, dict[str, Any]]:
    result = compile_file(ROOT / "examples/edge.yaml", "examples/edge.yaml")
    assert result.tree is not None
    assert "monitoring.yaml" in result.tree["cluster/fabric/kustomization.yaml"]
    return {doc["kind"]: doc for doc in _load_all(result.tree["cluster/fabric/monitoring.yaml"])}


def _schema(kind: str) -> dict[str, Any]:
    (crd,) = _load_all((CRDS / f"monitoring.coreos.com_{kind.lower()}s.yaml").read_text())
    assert crd["spec"]["names"]["kind"] == kind
    (version,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1"]
    schema: dict[str, Any] = version["schema"]["openAPIV3Schema"]
    return schema


@pytest.mark.parametrize("kind", ["PodMonitor", "PrometheusRule"])
def test_each_object_is_valid_by_the_operators_crd(
    objects: dict[str, dict[str, Any]], kind: str
) -> None:
    # (not checked against the metaschema: the CRD's patterns are Go regular expressions)
    validator = jsonschema.Draft7Validator(_strict(_schema(kind)))
    validator.validate(objects[kind])
    broken = {**objects[kind], "spec": {**objects[kind]["spec"], "bogus": 1}}
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(broken)


def _strict(schema: dict[str, Any]) -> dict[str, Any]:
    """The CRD's schema with unknown fields of spec refused (the API server's strict field
    validation refuses them, where the schema alone would let them through)."""
    spec = {**schema["properties"]["spec"], "additionalProperties": False}
    return {**schema, "properties": {**schema["properties"], "spec": spec}}


def _rules(objects: dict[str, dict[str, Any]], folder: Path) -> Path:
    path = folder / "rules.yaml"
    path.write_text(dump_yaml({"groups": objects["PrometheusRule"]["spec"]["groups"]}))
    return path


def test_promtool_accepts_the_rules(objects: dict[str, dict[str, Any]], tmp_path: Path) -> None:
    promtool = require_tool("promtool")
    done = subprocess.run(
        [promtool, "check", "rules", str(_rules(objects, tmp_path))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 5 rules found" in done.stdout


def test_each_alert_fires_on_what_an_lb_pod_reports(
    objects: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    promtool = require_tool("promtool")
    pod = 'namespace="lbgen-system", pod="lb-dns-5d9c-x2", job="lbgen-system/lbgen-edge"'
    series = {
        f'lbgen_announced{{{pod}, family="ipv4"}}': "0x10",
        f'lbgen_bgp_session_up{{{pod}, reflector="rr1"}}': "0x10",
        f"lbgen_hook_pool_stale{{{pod}}}": "1x10",
        f"lbgen_announcer_status_age_seconds{{{pod}}}": "120x10",
        f"up{{{pod}}}": "0x10",
    }
    fired = {
        "LbgenLoadBalancerNotAnnouncing": {"family": "ipv4"},
        "LbgenBgpSessionDown": {"reflector": "rr1"},
        "LbgenPoolStale": {},
        "LbgenAnnouncerSilent": {},
        "LbgenMetricsDown": {},
    }
    tests = {
        "rule_files": [str(_rules(objects, tmp_path))],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [{"series": s, "values": v} for s, v in series.items()],
                "alert_rule_test": [
                    {
                        "eval_time": "6m",
                        "alertname": name,
                        "exp_alerts": [
                            {
                                "exp_labels": {
                                    "severity": _severity(objects, name),
                                    "namespace": "lbgen-system",
                                    "pod": "lb-dns-5d9c-x2",
                                    "job": "lbgen-system/lbgen-edge",
                                    **extra,
                                },
                                "exp_annotations": {"summary": _summary(objects, name, extra)},
                            }
                        ],
                    }
                    for name, extra in fired.items()
                ],
            }
        ],
    }
    (tmp_path / "tests.yaml").write_text(dump_yaml(tests))
    done = subprocess.run(
        [promtool, "test", "rules", str(tmp_path / "tests.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _rule(objects: dict[str, dict[str, Any]], name: str) -> dict[str, Any]:
    (group,) = objects["PrometheusRule"]["spec"]["groups"]
    rule: dict[str, Any] = next(r for r in group["rules"] if r["alert"] == name)
    return rule


def _severity(objects: dict[str, dict[str, Any]], name: str) -> str:
    return str(_rule(objects, name)["labels"]["severity"])


def _summary(objects: dict[str, dict[str, Any]], name: str, extra: dict[str, str]) -> str:
    text = str(_rule(objects, name)["annotations"]["summary"])
    for key, value in {"pod": "lb-dns-5d9c-x2", **extra}.items():
        text = text.replace(f"{{{{ $labels.{key} }}}}", value)
    return text
