"""The hook's reorder, against a keepalived and an IPVS that behave as the real ones do (a
reload deletes the servers gone from the config and adds the new ones in config order, each at
the head of the kernel list): two reloads, the second always the full config, then the order
checked; counted as done or failed. The real thing is proven in the VM (tests/vm)."""

from __future__ import annotations

import re
from ipaddress import IPv4Address
from pathlib import Path

import pytest

from lbgen.render.keepalived import RealServer
from lbgen.runtime.hook.reload import Outcome
from lbgen.runtime.hook.run import Hook
from lbgen.runtime.hook.settings import HookSettings
from lbgen.runtime.kube.client import KubeClient
from tests.support.hookrig import paper_pod

HTTP = ("http", "TCP")


REAL_SERVER = re.compile(r"real_server (\S+) (\d+)")


class FakeKernel:
    """keepalived applying configs to one virtual server's list, written as /proc/net/ip_vs."""

    def __init__(self, table: Path, listed: list[str], *, applies: bool = True) -> None:
        self.table, self.applies = table, applies
        self.servers = [IPv4Address(a) for a in listed]
        self.configs: list[str] = []
        self.write()

    def apply(self, text: str, *, signal_anyway: bool = False) -> Outcome:
        self.configs.append(text)
        if self.applies:
            wanted = [IPv4Address(a) for a, _port in REAL_SERVER.findall(text)]
            self.servers = [s for s in self.servers if s in wanted]
            for server in wanted:
                if server not in self.servers:
                    self.servers.insert(0, server)
            self.write()
        return Outcome.RELOADED

    def write(self) -> None:
        lines = ["IP Virtual Server version 1.2.1 (size=4096)", "TCP  0A010101:0050 mh"]
        lines += [f"  -> {int(s):08X}:1F90      Masq    1      0          0" for s in self.servers]
        self.table.write_text("\n".join(lines) + "\n")


def hook_with(kernel: FakeKernel, table: Path) -> Hook:
    settings = HookSettings(
        ipvs_table=table, order_interval_seconds=0.1, order_timeout_seconds=0.3, metrics_port=0
    )
    hook = Hook(paper_pod(), settings, KubeClient("http://127.0.0.1:9"))
    hook.reloader = kernel  # type: ignore[assignment]
    return hook


def pool(*addresses: str) -> dict[tuple[str, str], tuple[RealServer, ...]]:
    return {HTTP: tuple(RealServer(IPv4Address(a), 8080) for a in addresses)}


def done(hook: Hook, result: str) -> float:
    found = hook.metrics.registry.get_sample_value(
        "lbgen_hook_ipvs_reorders_total", {"result": result}
    )
    return found or 0.0


@pytest.fixture
def table(tmp_path: Path) -> Path:
    return tmp_path / "ip_vs"


def test_a_server_added_at_the_head_is_put_last_by_taking_the_others_out_and_back(
    table: Path,
) -> None:
    # keepalived held .100 and .101 (fresh: .101, .100), then .50 arrived at the head
    kernel = FakeKernel(table, ["172.16.1.50", "172.16.1.101", "172.16.1.100"])
    hook = hook_with(kernel, table)
    hook._reorder(pool("172.16.1.50", "172.16.1.100", "172.16.1.101"))
    assert kernel.servers == [
        IPv4Address(a) for a in ("172.16.1.101", "172.16.1.100", "172.16.1.50")
    ]
    first, second = kernel.configs
    assert REAL_SERVER.findall(first) == [("172.16.1.50", "8080")]
    assert len(REAL_SERVER.findall(second)) == 3
    assert done(hook, "done") == 1


def test_a_pool_in_order_is_left_alone(table: Path) -> None:
    kernel = FakeKernel(table, ["172.16.1.101", "172.16.1.100", "172.16.1.50"])
    hook = hook_with(kernel, table)
    hook._reorder(pool("172.16.1.50", "172.16.1.100", "172.16.1.101"))
    assert kernel.configs == []


def test_a_keepalived_that_does_not_apply_leaves_the_full_config_and_counts_a_failure(
    table: Path,
) -> None:
    kernel = FakeKernel(table, ["172.16.1.50", "172.16.1.101", "172.16.1.100"], applies=False)
    hook = hook_with(kernel, table)
    hook._reorder(pool("172.16.1.50", "172.16.1.100", "172.16.1.101"))
    assert len(REAL_SERVER.findall(kernel.configs[-1])) == 3
    assert done(hook, "failed") == 1
    assert done(hook, "done") == 0


def test_without_ipvs_nothing_is_read_or_written(tmp_path: Path) -> None:
    kernel = FakeKernel(tmp_path / "elsewhere", ["172.16.1.50", "172.16.1.101"])
    hook = hook_with(kernel, tmp_path / "no-ip_vs")
    hook._reorder(pool("172.16.1.50", "172.16.1.101"))
    assert kernel.configs == []
