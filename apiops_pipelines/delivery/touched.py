"""The operations a release changes, by the spec diff against the stable release: the canary must show each
of them enough requests before it may pass (a changed operation nobody called proves nothing)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from apiops_pipelines.diff.spec_diff import diff_specs

MAX_TOUCHED = 200  # a rewrite touching more than this is judged on every operation, without per-op minimums


def touched_operations(baseline: Path | None, revision: dict[str, Any]) -> tuple[str, ...]:
    """`GET /orders/{id}`-style names of the operations with a change; () without a readable baseline."""
    if baseline is None:
        return ()
    try:
        base = json.loads(baseline.read_bytes())
    except (OSError, ValueError):
        return ()
    touched = sorted({change.operation for change in diff_specs(base, revision) if change.operation})
    return tuple(touched) if len(touched) <= MAX_TOUCHED else ()
