"""lbgen/runtime/hook/metrics.py: the pod's /metrics say what its announcer decided."""

from __future__ import annotations

import json
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest

from lbgen.runtime.hook.metrics import AnnouncerMetrics


def test_the_pods_metrics_say_what_the_announcer_decided(tmp_path: Path) -> None:
    status = {
        "beat": 10.0,
        "families": {"ipv4": {"announced": True, "changes": 3, "problems": []}},
        "sessions": {"rr": True, "rr2": False},
    }
    (tmp_path / "announce.json").write_text(json.dumps(status))
    registry = CollectorRegistry()
    registry.register(AnnouncerMetrics(tmp_path / "announce.json", clock=lambda: 12.5))
    text = generate_latest(registry).decode()
    assert 'lbgen_announced{family="ipv4"} 1.0' in text
    assert 'lbgen_announce_changes_total{family="ipv4"} 3.0' in text
    assert 'lbgen_bgp_session_up{reflector="rr"} 1.0' in text
    assert 'lbgen_bgp_session_up{reflector="rr2"} 0.0' in text
    assert "lbgen_announcer_status_age_seconds 2.5" in text
    (tmp_path / "announce.json").unlink()
    assert "lbgen_announcer_status_age_seconds NaN" in generate_latest(registry).decode()
