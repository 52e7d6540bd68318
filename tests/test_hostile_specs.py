"""Property: whatever spec it is given, `lbgen build` exits 0 or 1, never with a traceback or an
internal error; each finding carries file:line:col; a failed build leaves out/ as it was.

Specs are generated valid (random services, ports, placements, timers) and then bent: values
replaced by hostile ones (wrong types, huge numbers, control characters, special addresses),
keys removed, unknown keys added. CI runs a fixed, bounded set (the `ci` profile); a longer
random run: HYPOTHESIS_PROFILE=long .venv/bin/pytest tests/test_hostile_specs.py"""

from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lbgen import cli

settings.register_profile(
    "ci",
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


settings.register_profile(
    "long",
    max_examples=5000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


FINDING = re.compile(r"^\S*spec\.yaml:\d+:\d+: (error|warning)\[LB\d{3}\] ")


HOSTILE_VALUES = st.sampled_from(
    [
        None,
        True,
        0,
        -1,
        2**64,
        1.5,
        "",
        " ",
        "x\ny",
        "a#b",
        "a b",
        "\u2028",
        "\x00",
        "10.1.1.0/24",
        "10.1.1.1",
        "0.0.0.0/0",
        "255.255.255.255/32",
        "169.254.1.0/24",
        "224.0.0.0/4",
        "10.0.0.0/8",
        "::1",
        "300.1.1.1",
        "10.1.1.0/33",
        "kubernetes",
        "default",
        "a" * 70,
        "UPPER",
        [],
        {},
        [1, 2],
        {"x": 1},
    ]
)


@st.composite
def valid_specs(draw: st.DrawFn) -> dict[str, Any]:
    nodes = draw(st.integers(min_value=1, max_value=6))
    services = []
    for index in range(draw(st.integers(min_value=0, max_value=4))):
        length = draw(st.integers(min_value=22, max_value=32))
        size = 2 ** (32 - length)
        base = 0x0A010000 + index * 1024  # 10.1.x.x, apart from each other
        prefix = f"{_dotted(base)}/{length}"
        ports = [
            {
                "name": f"p{k}",
                "port": draw(st.integers(min_value=1, max_value=65535)),
                "protocol": draw(st.sampled_from(["TCP", "UDP"])),
            }
            for k in range(draw(st.integers(min_value=1, max_value=3)))
        ]
        service: dict[str, Any] = {
            "name": f"svc{index}",
            "prefix": prefix,
            "ports": ports,
            "backend": {"service": f"app{index}", "port": "http"},
            "scheduler": draw(st.sampled_from(["rr", "wrr", "lc", "wlc", "sh", "mh"])),
            "loadBalancers": {"replicas": draw(st.integers(min_value=1, max_value=nodes))},
        }
        if draw(st.booleans()) and size > 2:
            service["vips"] = [_dotted(base + 1 + draw(st.integers(0, size - 3)))]
        services.append(service)
    hold = draw(st.sampled_from([0, 3, 9, 90]))
    return {
        "apiVersion": "lbgen.io/v1alpha1",
        "kind": "Fabric",
        "metadata": {"name": "prop"},
        "spec": {
            "asn": draw(st.sampled_from([64512, 65000, 4200000000])),
            "networks": {"nodes": "192.168.10.0/24", "pods": "10.244.0.0/16"},
            "bgp": {"holdTime": hold, "keepalive": hold // 3},
            "routers": [{"name": "gw", "address": "192.168.10.1"}],
            "reflectors": [{"name": "rr1", "address": "192.168.10.2"}],
            "nodes": [{"name": f"n{i}", "address": f"192.168.10.{20 + i}"} for i in range(nodes)],
            "services": services,
        },
    }


def _dotted(value: int) -> str:
    return ".".join(str((value >> shift) & 255) for shift in (24, 16, 8, 0))


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _paths(value, (*prefix, index))
    return found


@st.composite
def near_valid_specs(draw: st.DrawFn) -> dict[str, Any]:
    spec = draw(valid_specs())
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        paths = _paths(spec)
        path = paths[draw(st.integers(min_value=0, max_value=len(paths) - 1))]
        parent = spec
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "remove", "unknown"]))
        if action == "replace":
            parent[path[-1]] = _fresh(draw(HOSTILE_VALUES))
        elif action == "remove" and isinstance(parent, dict):
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent["unexpectedField"] = _fresh(draw(HOSTILE_VALUES))
    return spec


def _fresh(value: Any) -> Any:
    """A copy: sampled_from hands out the same [] and {} every time, and a later mutation into
    one shared with another place (or another example) made a cycle (RecursionError) and
    Hypothesis's data generation inconsistent."""
    return copy.deepcopy(value)


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def _known_good() -> dict[str, Any]:
    return {
        "apiVersion": "lbgen.io/v1alpha1",
        "kind": "Fabric",
        "metadata": {"name": "prop"},
        "spec": {
            "asn": 64512,
            "networks": {"nodes": "192.168.10.0/24", "pods": "10.244.0.0/16"},
            "routers": [{"name": "gw", "address": "192.168.10.1"}],
            "reflectors": [{"name": "rr1", "address": "192.168.10.2"}],
            "nodes": [{"name": "n0", "address": "192.168.10.20"}],
        },
    }


@given(spec=near_valid_specs())
def test_any_spec_exits_0_or_1_with_located_findings_and_leaves_out_alone_on_failure(
    spec: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = tmp_path_factory.mktemp("prop")
    good = folder / "good.yaml"
    good.write_text(json.dumps(_known_good()))
    out = folder / "out"
    assert cli.main(["build", str(good), "-o", str(out), "--format", "text"]) == 0
    before = _tree(out)
    capsys.readouterr()
    path = folder / "spec.yaml"
    path.write_text(json.dumps(spec))  # JSON is YAML
    code = cli.main(["build", str(path), "-o", str(out), "--format", "text"])
    said = capsys.readouterr()
    assert code in (0, 1), said.err
    assert "Traceback" not in said.out + said.err
    if code == 1:
        findings = [line for line in said.out.splitlines() if "[LB" in line]
        assert findings, said.out
        assert all(FINDING.match(line) for line in findings), said.out
        assert _tree(out) == before
    else:
        assert cli.main(["build", str(path), "-o", str(out), "--check"]) == 0
