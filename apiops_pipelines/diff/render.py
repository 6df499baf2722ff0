"""The diff as a reader sees it: a Markdown changelog for the UI, one line per change for a terminal, JSON."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict

from apiops_pipelines.diff.change import LEVELS, Change
from apiops_pipelines.diff.semver import VersionVerdict

_TITLES = {"breaking": "Breaking", "non-breaking": "Non-breaking", "info": "Info"}
_VERDICT_ORDER = {"error": 0, "warning": 1, "info": 2}


def summarize(changes: Iterable[Change]) -> dict[str, int]:
    counts = dict.fromkeys(LEVELS, 0)
    for change in changes:
        counts[change.level] += 1
    return {**counts, "total": sum(counts.values())}


def sort_changes(changes: Iterable[Change]) -> list[Change]:
    """Breaking first; within a level, document-level changes, then by operation, in a stable order."""
    rank = {level: i for i, level in enumerate(LEVELS)}
    return sorted(changes, key=lambda c: (rank[c.level], c.operation is not None, c.operation or "", c.pointer, c.id))


def _what(change: Change) -> str:
    prefix = f"{change.operation}: "
    return change.text[len(prefix) :] if change.operation and change.text.startswith(prefix) else change.text


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    fence = "``" if "`" in text else "`"
    pad = " " if fence == "``" else ""
    return f"{fence}{pad}{_cell(text)}{pad}{fence}"


def render_markdown(changes: Sequence[Change], verdicts: Sequence[VersionVerdict] = (), base_label: str = "base",
                    revision_label: str = "revision", limit: int = 200) -> str:  # fmt: skip
    """A changelog: summary counts, the version verdicts, then one table per level, breaking first.
    Each table shows at most `limit` rows and says how many more there are."""
    counts = summarize(changes)
    lines = [f"## API changes: {_code(base_label)} → {_code(revision_label)}", ""]
    if not changes:
        lines.append("No changes.")
    else:
        breaking, additions, notes = counts["breaking"], counts["non-breaking"], counts["info"]
        lines.append(f"**{breaking} breaking** · {additions} non-breaking · {notes} info")
    for verdict in sorted(verdicts, key=lambda v: _VERDICT_ORDER[v.level]):
        lines += ["", f"> **Version {verdict.level}:** {_cell(verdict.message)}"]
    ordered = sort_changes(changes)
    for level in LEVELS:
        rows = [c for c in ordered if c.level == level]
        if not rows:
            continue
        lines += ["", f"### {_TITLES[level]} ({len(rows)})", "", "| Operation | Change | Where |", "|---|---|---|"]
        for change in rows[:limit]:
            operation = _code(change.operation) if change.operation else "*document*"
            lines.append(f"| {operation} | {_cell(_what(change))} | {_code('#' + change.pointer)} |")
        if len(rows) > limit:
            lines += ["", f"… and {len(rows) - limit} more {level} changes (see the JSON report)."]
    return "\n".join(lines) + "\n"


def render_text(changes: Sequence[Change], verdicts: Sequence[VersionVerdict] = ()) -> str:
    """`BREAKING GET /books: query parameter 'limit' became required`, one line each, breaking first."""
    lines = [f"{change.level.upper()} {change.text}" for change in sort_changes(changes)]
    lines += [f"VERSION {verdict.level.upper()} {verdict.message}" for verdict in verdicts]
    return "\n".join(lines) + ("\n" if lines else "")


def render_json(changes: Sequence[Change], verdicts: Sequence[VersionVerdict] = ()) -> str:
    document = {
        "summary": summarize(changes),
        "changes": [asdict(change) for change in sort_changes(changes)],
        "verdicts": [{**asdict(verdict), "blocking": verdict.blocking} for verdict in verdicts],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
