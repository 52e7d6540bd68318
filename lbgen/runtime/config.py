"""A runtime's JSON share of the plan (the pod's lb.json, the node agent's config), read once at
start into its model; any problem is one clear line."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from lbgen.errors import LbgenError

Config = TypeVar("Config", bound=BaseModel)


def read_config(path: Path, model: type[Config], what: str) -> Config:
    """A runtime's JSON share of the plan, read once at start; any problem is one clear line."""
    try:
        return model.model_validate_json(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise LbgenError(f"{path}: cannot read the {what}: {error}") from error
    except ValidationError as error:
        raise LbgenError(f"{path}: not an lbgen {what}: {error}") from error
