"""A YAML file lbgen rendered, read back for the verifier: by libyaml's C loader through PyYAML,
not by the spec's reader (whose bounds and messages are for a user's hostile file; this one is
lbgen's own, with no aliases and maybe millions of nodes). Where a node starts is found only
when a finding needs it, from the file composed again (in C as well)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import yaml

from lbgen.diagnostics import Position, SpecPath


@dataclass(frozen=True)
class Rendered:
    name: str
    text: str
    data: Any

    @cached_property
    def _tree(self) -> yaml.Node | None:
        return yaml.compose(self.text, Loader=yaml.CSafeLoader)

    def position(self, path: SpecPath) -> Position:
        """Where the node at `path` starts; for a path that does not exist, its nearest parent."""
        node = self._tree
        mark = node.start_mark if node is not None else None
        for part in path:
            child: yaml.Node | None = None
            if isinstance(node, yaml.MappingNode):
                child = next((v for k, v in node.value if k.value == part), None)
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                child = node.value[part] if 0 <= part < len(node.value) else None
            if child is None:
                break
            node, mark = child, child.start_mark
        if mark is None:
            return Position(self.name, 1, 1)
        return Position(self.name, mark.line + 1, mark.column + 1)


def read_rendered(text: str, name: str) -> Rendered | tuple[Position, str]:
    """The file's data, or where it is not YAML and why."""
    try:
        return Rendered(name, text, yaml.load(text, Loader=yaml.CSafeLoader))
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = Position(name, mark.line + 1, mark.column + 1) if mark else Position(name, 1, 1)
        return where, str(error.problem or error)
    except yaml.YAMLError as error:
        return Position(name, 1, 1), str(error)
