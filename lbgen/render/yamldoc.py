"""Serialise data to YAML deterministically: insertion order kept, block style, LF, no aliases."""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml import YAML


def dump_yaml(data: Any, comment: str = "") -> str:
    yaml = YAML(typ="rt", pure=True)
    yaml.default_flow_style = False
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.representer.ignore_aliases = lambda _data: True
    stream = io.StringIO()
    yaml.dump(data, stream)
    head = "".join(f"# {line}\n" if line else "#\n" for line in comment.splitlines())
    return head + stream.getvalue()
