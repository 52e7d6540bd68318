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
