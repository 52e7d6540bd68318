"""lbgen/render/tree.py and the whole of out/: password files and Secrets are named, never a
password."""

from __future__ import annotations

from tests.unit.conftest import EdgeDns


def test_out_names_password_files_and_secrets_never_a_password(edge_dns: EdgeDns) -> None:
    tree, _ = edge_dns
    listing = tree["reflectors/rr-b/passwords.json"]
    assert '"file": "/etc/lbgen/bgp/lbs.password"' in listing
    assert not any("password " in text for path, text in tree.items() if "frr.conf" in path)
    assert not any("md5" in text for text in tree.values())
