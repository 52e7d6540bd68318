"""Spec text → `Fabric` model, or every schema finding at once with its file:line:col."""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import ip_network
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from lbgen.diagnostics import Diagnostic, SpecPath, finding, locate
from lbgen.source import Document, parse_document, read_document
from lbgen.spec import API_VERSION, Fabric
from lbgen.spec.fields import NOT_TEXT, PATTERN_MEANING


@dataclass(frozen=True)
class Loaded:
    """A spec that passed schema validation, with the document to locate later findings in."""

    fabric: Fabric
    document: Document


def load_fabric(path: Path, name: str) -> Loaded | list[Diagnostic]:
    return _validate(read_document(path, name))


def load_fabric_text(text: str, name: str) -> Loaded | list[Diagnostic]:
    return _validate(parse_document(text, name))


def _validate(document: Document | Diagnostic) -> Loaded | list[Diagnostic]:
    if isinstance(document, Diagnostic):
        return [document]
    try:
        fabric = Fabric.model_validate(document.data)
    except ValidationError as error:
        details = error.errors(include_url=False)
        failed_inside = {tuple(d["loc"][:n]) for d in details for n in range(len(d["loc"]))}
        found = [
            _diagnostic(document, detail)
            for detail in details
            # a list whose items failed is also reported "too short": the items say it better
            if not (detail["type"] == "too_short" and tuple(detail["loc"]) in failed_inside)
        ]
        return list(locate(found, document))
    return Loaded(fabric, document)


def _diagnostic(document: Document, detail: ErrorDetails) -> Diagnostic:
    path: SpecPath = tuple(part for part in detail["loc"] if isinstance(part, str | int))
    kind = detail["type"]
    if kind == "missing":
        return finding(
            "LB011",
            path,
            "required field is missing",
            f"add `{path[-1]}:` here",
            position=document.position(path[:-1]),
        )
    if kind == "extra_forbidden":
        return finding(
            "LB010",
            path,
            f"unknown field `{path[-1]}`",
            "check its spelling against schema/lbgen.schema.json (field names are camelCase)",
            position=document.key_position(path),
        )
    return finding(
        "LB012",
        path,
        _join(_describe(detail["input"]), _message(detail)),
        _hint(path, detail),
    )


def _join(value: str, message: str) -> str:
    return f"{value} {message}" if message.startswith("is not") else f"{value}: {message}"


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "an empty value"
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _message(detail: ErrorDetails) -> str:
    if detail["type"] == "string_pattern_mismatch":
        meaning = PATTERN_MEANING.get(str((detail.get("ctx") or {}).get("pattern")))
        if meaning:
            return f"is not {meaning}"
    message = detail["msg"]
    message = message.removeprefix("Value error, ").replace("Tuple should", "List should")
    message = re.sub(r" after validation, not \d+$", "", message)
    return message[:1].lower() + message[1:]


# each IPv4 field and its IPv6 twin (a dual-stack fabric)
IPV6_TWINS = {
    "prefix": "prefix6",
    "address": "address6",
    "podSubnet": "podSubnet6",
    "nodes": "networks.nodes6",
    "pods": "networks.pods6",
}


# pydantic's error type of each address and network field → the form to write
CIDR = "in CIDR form with no host bits set"
IP_FORMS = {
    "ip_v4_network": f"an IPv4 network {CIDR}, e.g. 10.1.1.0/24",
    "ip_v4_address": "an IPv4 address, e.g. 10.0.0.1",
    "ip_v6_network": f"an IPv6 network {CIDR}, e.g. 2001:db8:1::/64",
    "ip_v6_address": "an IPv6 address, e.g. fd00::10",
    "ip_any_network": f"a network {CIDR}, e.g. 10.1.1.0/24 or fd00:1::/64",
    "ip_any_address": "an IPv4 or IPv6 address, e.g. 10.1.1.1 or 2001:db8:1::1",
}


def _is_ipv6(value: Any) -> bool:
    try:
        return isinstance(value, str) and ip_network(value, strict=False).version == 6
    except ValueError:
        return False


def _hint(path: SpecPath, detail: ErrorDetails) -> str:
    kind = detail["type"]
    last = path[-1] if path else ""
    if last == "apiVersion":
        return f"use `apiVersion: {API_VERSION}`"
    if last == "kind":
        return "use `kind: Fabric`"
    if kind.startswith(("ip_v4_network", "ip_v4_address")) and _is_ipv6(detail.get("input")):
        twin = IPV6_TWINS.get(str(last))
        if twin:
            return f"this field is IPv4; an IPv6 one goes in `{twin}`"
        return "BGP identifiers are 32 bits, written as an IPv4 address in either family"
    for prefix, form in IP_FORMS.items():
        if kind.startswith(prefix):
            return f"write {form}"
    if NOT_TEXT in str(detail.get("msg")):
        if str(last).endswith("6"):
            return 'write it as text in quotes, e.g. "fd00::10" or "2001:db8:1::/64"'
        return "write it in dotted form, e.g. 10.0.0.1 or 10.1.1.0/24"
    if kind == "literal_error":
        return "use one of the values listed"
    if kind == "string_pattern_mismatch":
        return "change the value to match that form"
    if kind == "too_short":
        return f"add at least one entry to `{last}`"
    if kind == "too_long":
        return f"remove entries from `{last}`"
    if kind.endswith("_type") or kind.endswith("_parsing"):
        return "change the value to the expected type"
    return "change the value to satisfy the constraint"
