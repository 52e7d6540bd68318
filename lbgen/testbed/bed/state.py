"""What a testbed started, kept in its work folder's state.json so that `down`, run by another
process, ends exactly that: its namespaces, its processes by PID, the LB pods added later."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class State:
    prefix: str
    namespaces: list[str] = field(default_factory=list)
    processes: dict[str, int] = field(default_factory=dict)  # name → PID
    extra: list[tuple[str, str]] = field(default_factory=list)  # (service, node) scaled out

    @classmethod
    def load(cls, path: Path, prefix: str) -> State:
        if not path.exists():
            return cls(prefix)
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            data["prefix"],
            list(data.get("namespaces", [])),
            {k: int(v) for k, v in data.get("processes", {}).items()},
            [(s, n) for s, n in data.get("extra", [])],
        )

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2, sort_keys=True), encoding="utf-8")
