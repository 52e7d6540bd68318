"""One testbed of the paper's fabric serves every module of this package, in order (health-gated
routes, the datapath, a rollout, scale events): each module leaves it as it found it (web1 and
web2 on their nodes, every LB announcing), so the package pays for one testbed under software
emulation, not one per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lbgen.testbed.bed import Testbed
from tests.vm.conftest import testbed_of


@pytest.fixture(scope="package")
def bed() -> Iterator[Testbed]:
    """The paper's fabric with every LB pod whole (tests.vm.conftest.testbed_of)."""
    yield from testbed_of("paper", "v-")
