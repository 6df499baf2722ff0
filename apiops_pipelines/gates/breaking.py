"""The breaking-change gate: what changed between a base spec and a revision, and the semver verdict."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apiops_pipelines.diff import Change, VersionVerdict, check_version, diff_specs, summarize


@dataclass(frozen=True)
class DiffReport:
    changes: list[Change]
    verdicts: list[VersionVerdict]
    base_version: str
    revision_version: str

    @property
    def blocking(self) -> bool:
        return any(v.blocking for v in self.verdicts)

    @property
    def counts(self) -> dict[str, int]:
        return summarize(self.changes)


def spec_version(document: dict[str, Any]) -> str:
    info = document.get("info")
    return str(info.get("version", "")) if isinstance(info, dict) else ""


def compare_specs(base: dict[str, Any], revision: dict[str, Any], policy: str = "block") -> DiffReport:
    changes = diff_specs(base, revision)
    old, new = spec_version(base), spec_version(revision)
    return DiffReport(changes, check_version(old, new, changes, policy), old, new)  # type: ignore[arg-type]
