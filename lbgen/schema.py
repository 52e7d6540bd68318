"""The JSON Schema of the spec, for editors and for `schema/lbgen.schema.json` (committed)."""

from __future__ import annotations

import json

from lbgen.spec import Fabric

SCHEMA_PATH = "schema/lbgen.schema.json"


def render_schema() -> str:
    schema = Fabric.model_json_schema(by_alias=True, mode="validation")
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "lbgen Fabric (lbgen.io/v1alpha1)",
        **{k: v for k, v in schema.items() if k != "title"},
    }
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


REFERENCE_PATH = "docs/spec-reference.md"


def render_reference() -> str:
    """docs/spec-reference.md: every object of the spec and its fields, from the JSON Schema
    (checked fresh in CI and refreshed by `pytest --update-golden`, as the codes table is)."""
    schema = json.loads(render_schema())
    defs: dict[str, dict[str, object]] = schema["$defs"]
    lines = [
        "# Spec reference",
        "",
        "Generated from the spec's JSON Schema (`schema/lbgen.schema.json`): do not edit; refresh",
        "with `pytest tests/test_docs.py --update-golden`. By topic, with examples:",
        "[spec.md](spec.md).",
        "",
    ]
    for title, node in [("Fabric", schema), *sorted(defs.items())]:
        lines += _object(title, node)
    return "\n".join(lines).rstrip("\n") + "\n"


def _object(title: str, node: dict[str, object]) -> list[str]:
    lines = [f"## {title}", ""]
    if isinstance(node.get("description"), str):
        lines += [_cell(str(node["description"])), ""]
    properties = node.get("properties")
    if not isinstance(properties, dict):
        return lines
    required = set(node.get("required") or ())  # type: ignore[call-overload]
    lines += ["| field | type | default | meaning |", "|---|---|---|---|"]
    for name, field in sorted(properties.items()):
        default = "required" if name in required else _default(field)
        meaning = _cell(str(field.get("description", "")))
        lines.append(f"| `{name}` | {_type(field)} | {default} | {meaning} |")
    return [*lines, ""]


def _type(field: dict[str, object]) -> str:
    if "$ref" in field:
        target = str(field["$ref"]).rsplit("/", 1)[-1]
        return f"[{target}](#{target.lower()})"
    if "anyOf" in field:
        kinds = [_type(k) for k in field["anyOf"] if k.get("type") != "null"]  # type: ignore[attr-defined]
        return " or ".join(kinds)
    if "enum" in field:
        return " \\| ".join(f"`{v}`" for v in field["enum"])  # type: ignore[attr-defined]
    kind = str(field.get("type", "any"))
    if kind == "array" and isinstance(field.get("items"), dict):
        return f"list of {_type(field['items'])}"  # type: ignore[arg-type]
    if kind == "object" and isinstance(field.get("additionalProperties"), dict):
        return f"map of {_type(field['additionalProperties'])}"  # type: ignore[arg-type]
    if "format" in field:
        return f"{kind} ({field['format']})"
    return kind


def _default(field: dict[str, object]) -> str:
    if "default" not in field or field["default"] is None:
        return ""
    return f"`{json.dumps(field['default'], ensure_ascii=False)}`"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")
