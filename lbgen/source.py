"""Read a spec file: YAML (round-trip, so every node keeps its line and column) → plain data."""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from lbgen.diagnostics import Diagnostic, Position, SpecPath, finding


@dataclass(frozen=True)
class Document:
    """A parsed spec: plain data, and a round-trip tree that knows where each node came from.

    The tree is built only when a position is asked for: the round-trip parser is several times
    slower than the C one that reads the data, and a clean spec never needs a position."""

    name: str
    text: str
    data: Any

    @cached_property
    def tree(self) -> Any:
        return YAML(typ="rt").load(self.text)

    def position(self, path: SpecPath) -> Position:
        """Where the node at `path` starts; for a path that does not exist, its nearest parent."""
        node = self.tree
        line, column = 0, 0
        for part in path:
            if isinstance(node, CommentedMap) and part in node:
                line, column = _value_position(node, part)
                node = node[part]
            elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
                line, column = node.lc.item(part)
                node = node[part]
            else:
                if isinstance(node, CommentedMap | CommentedSeq):
                    line, column = node.lc.line, node.lc.col
                break
        return Position(self.name, line + 1, column + 1)

    def key_position(self, path: SpecPath) -> Position:
        """Where the key of the mapping entry at `path` is (for `unknown field` findings)."""
        parent = self.tree
        for part in path[:-1]:
            try:
                parent = parent[part]
            except (KeyError, IndexError, TypeError):
                return self.position(path)
        if isinstance(parent, CommentedMap) and path and path[-1] in parent:
            line, column = parent.lc.key(path[-1])
            return Position(self.name, line + 1, column + 1)
        return self.position(path)


def _value_position(node: CommentedMap, key: object) -> tuple[int, int]:
    value = node[key]
    if isinstance(value, CommentedMap | CommentedSeq) and value.lc.line is not None:
        # a block collection starts on its own line; point at its first entry
        return int(value.lc.line), int(value.lc.col)
    line, column = node.lc.value(key)
    return int(line), int(column)


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k) if not isinstance(k, int | bool) else k: _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    return node


def _mark_position(name: str, error: MarkedYAMLError) -> Position:
    mark = error.problem_mark or error.context_mark
    if mark is None:
        return Position(name, 1, 1)
    return Position(name, mark.line + 1, mark.column + 1)


# a spec is read by pre-commit hooks and CI jobs: one hostile file must not take them down
MAX_SPEC_BYTES = 4 * 1024 * 1024  # about 17,000 services
MAX_DEPTH = 64  # a spec nests about 6 deep
# nodes aliases stand for once expanded (the text's own nodes are bounded by its size; a file
# lbgen rendered, which the verifier reads back, has no aliases and may have millions)
MAX_EXPANDED_NODES = 1_000_000


def _structure_problem(text: str, name: str) -> Diagnostic | None:
    """Nesting depth and alias expansion, from the parser's events, before anything is built:
    a 551-byte alias bomb expands to billions of nodes, 10,000 nested lists exhaust the stack."""
    depth = 0
    sizes: dict[str, int] = {}  # anchor → nodes it stands for
    open_nodes: list[tuple[str | None, int]] = []  # (anchor, nodes so far) per open collection
    expanded = 0  # nodes brought in by aliases
    for event in YAML(typ="safe").parse(text):
        kind = type(event).__name__
        if kind in ("MappingStartEvent", "SequenceStartEvent"):
            depth += 1
            if depth > MAX_DEPTH:
                return _bounded("LB006", f"nests deeper than {MAX_DEPTH} levels", event, name)
            open_nodes.append((event.anchor, 1))
            continue
        if kind in ("MappingEndEvent", "SequenceEndEvent"):
            depth -= 1
            anchor, size = open_nodes.pop()
            weight = size
            if anchor is not None:
                sizes[anchor] = size
        elif kind == "ScalarEvent":
            weight = 1
            if event.anchor is not None:
                sizes[event.anchor] = 1
        elif kind == "AliasEvent":
            weight = sizes.get(event.anchor, 1)
            expanded += weight
        else:
            continue
        if open_nodes:
            anchor, size = open_nodes[-1]
            open_nodes[-1] = (anchor, size + weight)
        if expanded > MAX_EXPANDED_NODES:
            return _bounded(
                "LB007",
                f"holds aliases that expand to more than {MAX_EXPANDED_NODES:,} nodes",
                event,
                name,
            )
    return None


def _bounded(code: str, what: str, event: Any, name: str) -> Diagnostic:
    mark = event.start_mark
    return finding(
        code,
        (),
        f"the spec {what}",
        "a fabric spec is a few levels of mappings and lists; remove the nesting or aliases "
        "that build this",
        position=Position(name, mark.line + 1, mark.column + 1) if mark else Position(name, 1, 1),
    )


def parse_document(text: str, name: str) -> Document | Diagnostic:
    """Parse YAML text into a Document, or one diagnostic saying what is wrong and where."""
    # the C parser when ruamel.yaml.clib is installed; ruamel's YAML 1.2 resolver either way
    yaml = YAML(typ="safe")
    yaml.allow_duplicate_keys = False
    try:
        unbounded = _structure_problem(text, name)
        if unbounded is not None:
            return unbounded
        data = yaml.load(text)
    except DuplicateKeyError as error:
        return finding(
            "LB002",
            (),
            f"duplicate key: {_first_line(error.problem)}",
            "each key may appear once per mapping; remove or merge the repeated one",
            position=_mark_position(name, error),
        )
    except MarkedYAMLError as error:
        problem = error.problem or error.context or "not valid YAML"
        return finding(
            "LB001",
            (),
            f"YAML syntax error: {_first_line(problem)}",
            "fix the YAML syntax at this position (indentation, quotes, a missing ':')",
            position=_mark_position(name, error),
        )
    except YAMLError as error:
        return finding(
            "LB001",
            (),
            f"YAML syntax error: {_first_line(str(error))}",
            "fix the YAML syntax",
            position=Position(name, 1, 1),
        )
    if not isinstance(data, dict):
        return finding(
            "LB003",
            (),
            "the document is not a mapping",
            "a spec starts with `apiVersion: lbgen.io/v1alpha1` and `kind: Fabric`",
            position=Position(name, 1, 1),
        )
    return Document(name=name, text=text, data=_plain(data))


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


# a spec says what it is near its top; pre-commit hands lbgen every YAML file of a folder
_DECLARES_FABRIC = re.compile(r"^(apiVersion:\s*[\"']?lbgen\.io/|kind:\s*[\"']?Fabric\b)", re.M)
SNIFF_BYTES = 65536


def looks_like_fabric(path: Path) -> bool:
    """True unless the file plainly is not an lbgen spec (a kustomization.yaml beside it, say).
    Unreadable files count as specs, so that reading them reports why they cannot be read."""
    head = _read_regular(path, name="", limit=SNIFF_BYTES, whole=False)
    if isinstance(head, Diagnostic):
        return True
    return _DECLARES_FABRIC.search(head.decode("utf-8", errors="replace")) is not None


def _read_regular(path: Path, name: str, limit: int, *, whole: bool = True) -> bytes | Diagnostic:
    """At most `limit` bytes of a regular file. A FIFO, a device or a folder is refused before
    a byte is read (a FIFO would block, /dev/zero never ends); so is a file over the limit."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError as error:
        return _unreadable(name, error.strerror or str(error))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            what = "a folder" if stat.S_ISDIR(mode) else "a FIFO, socket or device"
            return finding(
                "LB004",
                (),
                f"the spec is {what}, not a regular file",
                "name a YAML file",
                position=Position(name, 1, 1),
            )
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as error:
        return _unreadable(name, error.strerror or str(error))
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if whole and len(data) > limit:
        return finding(
            "LB005",
            (),
            f"the spec is larger than {limit // (1024 * 1024)} MiB",
            "split the fabric into several specs",
            position=Position(name, 1, 1),
        )
    return data[:limit]


def _unreadable(name: str, reason: str) -> Diagnostic:
    return finding(
        "LB000",
        (),
        f"cannot read the spec: {reason}",
        "check the path and that the file is UTF-8 text",
        position=Position(name, 1, 1),
    )


def read_document(path: Path, name: str) -> Document | Diagnostic:
    """Read and parse a spec file; an unreadable file is a diagnostic too, never a traceback."""
    data = _read_regular(path, name, MAX_SPEC_BYTES)
    if isinstance(data, Diagnostic):
        return data
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        return _unreadable(name, str(error))
    return parse_document(text, name)
