"""What comparing one pair of schemas yields: findings in it, and edges to the referenced pairs below it."""

from __future__ import annotations

from dataclasses import dataclass, field

Key = tuple[str, str, str]  # (base pointer, revision pointer, "request" | "response")
Path = tuple[str, ...]  # property names, "[]" for array items, "*" for map values, "<Cat>" for variants


@dataclass(frozen=True, slots=True)
class SchemaFinding:
    kind: str  # a key of change.SCHEMA_KINDS
    path: Path  # where below the compared schema
    pointer: str
    detail: str


@dataclass(slots=True)
class Entry:
    findings: list[SchemaFinding] = field(default_factory=list)
    edges: list[tuple[Path, Key]] = field(default_factory=list)
