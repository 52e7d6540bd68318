"""lbgen/testbed/host/containers.py: an image's path is resolved inside the image, its links
followed there, never on this host."""

from __future__ import annotations

from pathlib import Path

from lbgen.testbed.host.containers import within


def test_an_image_path_is_resolved_inside_the_image_not_on_the_host(tmp_path: Path) -> None:
    """An image's /var/run is a link to /run: a volume mounted at /var/run/... must land in
    the image's /run, never the host's."""
    rootfs = tmp_path / "rootfs"
    (rootfs / "run/secrets").mkdir(parents=True)
    (rootfs / "var").mkdir()
    (rootfs / "var/run").symlink_to("/run")
    (rootfs / "etc/lbgen").mkdir(parents=True)
    assert within(str(rootfs), "/var/run/secrets/token") == f"{rootfs}/run/secrets/token"
    assert within(str(rootfs), "/etc/lbgen") == f"{rootfs}/etc/lbgen"
