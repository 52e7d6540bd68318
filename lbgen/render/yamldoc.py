"""Serialise plain data (dicts, lists, str, int, bool, None) to block-style YAML: insertion order
kept, LF, no aliases, two-space indents with list items at their key's column (libyaml's layout).

Written for this data instead of ruamel's representer, which dominated build time. Any string a
YAML 1.1 or 1.2 reader could take for something else is quoted: kubectl and gobgpd read YAML
with Go's 1.1 rules, where `yes`, `on` and `0644` are not strings. Every rendered file is parsed
back by a real YAML parser in the tests."""

from __future__ import annotations

import functools
import json
import re
from typing import Any

# what a plain (unquoted) scalar may look like here: no indicator first, no ": " or " #" inside
_PLAIN = re.compile(r"[A-Za-z0-9_./(][A-Za-z0-9_./()@=+ -]*(?::[A-Za-z0-9_./()@=+-]+)*")
_SPECIAL = re.compile(
    r"y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF"
    r"|~|null|Null|NULL|\.(inf|Inf|INF|nan|NaN|NAN)"
    r"|[-+]?(0b[01_]+|0o?[0-7_]+|0x[0-9a-fA-F_]+|[0-9][0-9_]*(:[0-5]?[0-9])*|\.[0-9_]+"
    r"|[0-9][0-9_]*\.[0-9_]*([eE][-+]?[0-9]+)?|[0-9][0-9_]*[eE][-+]?[0-9]+)"
)


class Flow(dict[str, Any]):
    """A mapping written on one line, as JSON (which every YAML reader takes as a flow mapping):
    for a small one repeated thousands of times in one file."""


@functools.lru_cache(maxsize=8192, typed=True)  # typed: True and 1 are different scalars
def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str):
        raise TypeError(f"cannot write {type(value).__name__} to YAML: {value!r}")
    if (
        value
        and _PLAIN.fullmatch(value)
        and not _SPECIAL.fullmatch(value)
        and value == value.strip()
    ):
        return value
    if value.isprintable():
        return "'" + value.replace("'", "''") + "'"
    return json.dumps(value)  # a JSON string is a valid double-quoted YAML scalar


def _lines(data: Any, indent: int) -> list[str]:
    pad = " " * indent
    if isinstance(data, dict):
        if not data:
            return [pad + "{}"]
        out = []
        for key, value in data.items():
            head = f"{pad}{_scalar(key)}:"
            if isinstance(value, Flow):
                out.append(f"{head} {json.dumps(value, separators=(', ', ': '))}")
            elif isinstance(value, dict) and value:
                out += [head, *_lines(value, indent + 2)]
            elif isinstance(value, list) and value:
                out += [head, *_lines(value, indent)]
            else:
                out.append(f"{head} {_inline(value)}")
        return out
    if isinstance(data, list):
        if not data:
            return [pad + "[]"]
        out = []
        for item in data:
            if isinstance(item, dict | list) and item:
                nested = _lines(item, indent + 2)
                out += [f"{pad}- {nested[0][indent + 2 :]}", *nested[1:]]
            else:
                out.append(f"{pad}- {_inline(item)}")
        return out
    return [pad + _scalar(data)]


def _inline(value: Any) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return _scalar(value)


def dump_yaml(data: Any, comment: str = "") -> str:
    head = "".join(f"# {line}\n" if line else "#\n" for line in comment.splitlines())
    return head + "\n".join(_lines(data, 0)) + "\n"
