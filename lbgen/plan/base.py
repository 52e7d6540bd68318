"""What every plan model is: frozen, closed, serialisable; and the families a session carries."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

# one LB pod serves one (service, node) and announces exactly its service prefix
PREFIXES_PER_LB = 1


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


Family = Literal["ipv4", "ipv6"]
