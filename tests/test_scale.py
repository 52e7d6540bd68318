"""Output grows with nodes + services, never their product (bench.scale measures it big; this
is the reduced check CI runs): doubling both doubles out/ and every box config, where a
per-node list of every service would quadruple them; and one service's port change rewrites
only that service's files."""

from __future__ import annotations

import pytest

from bench.fabric import scale_spec
from lbgen.compiler import compile_text

BOXES = ("routers/", "reflectors/")
# doubling services and nodes: ×2 if linear, ×4 if it grew with their product
LINEAR = 2.5


def _tree(services: int, nodes: int, text: str | None = None) -> dict[str, str]:
    result = compile_text(text or scale_spec(services, nodes), "scale.yaml")
    assert result.tree is not None, result.diagnostics[:3]
    return result.tree


@pytest.fixture(scope="module")
def small() -> dict[str, str]:
    return _tree(150, 150)


@pytest.fixture(scope="module")
def large() -> dict[str, str]:
    return _tree(300, 300)


def _size(tree: dict[str, str], prefix: str = "") -> int:
    return sum(len(text) for path, text in tree.items() if path.startswith(prefix))


def test_out_grows_with_nodes_plus_services(small: dict[str, str], large: dict[str, str]) -> None:
    assert _size(large) / _size(small) < LINEAR
    assert _size(large, "cluster/") / _size(small, "cluster/") < LINEAR


def test_every_box_config_grows_with_nodes_plus_services(
    small: dict[str, str], large: dict[str, str]
) -> None:
    boxes = [path for path in large if path.startswith(BOXES)]
    assert boxes
    for path in boxes:
        assert len(large[path]) / len(small[path]) < LINEAR, path


def test_a_deployment_is_as_big_as_its_service_not_the_fabric(
    small: dict[str, str], large: dict[str, str]
) -> None:
    """An LB Deployment lists no node and lb.json no node's address: an unpinned service's
    stay the same size on twice the nodes."""
    for name in ("deployment.yaml", "lb.json"):
        path = f"cluster/services/svc00000/{name}"
        assert len(large[path]) - len(small[path]) < 64, path


def test_one_service_changed_rewrites_only_its_own_files(large: dict[str, str]) -> None:
    text = scale_spec(300, 300)
    changed = _tree(300, 300, text.replace("port: 80}", "port: 8080}", 1))
    rewritten = {path for path in large.keys() | changed.keys() if large[path] != changed.get(path)}
    assert rewritten
    assert all(path.startswith("cluster/services/svc00000/") for path in rewritten), rewritten
