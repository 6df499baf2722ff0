"""A nightly regression for people: the per-gate table the check shows in the UI."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from apiops_pipelines.nightly.model import NightlyReport

_ICONS = {"passed": "✅ passed", "failed": "❌ failed", "error": "❌ error", "skipped": "➖ skipped"}


def gates_table(report: NightlyReport, link: Callable[[Path], str | None]) -> str:
    """One row per gate; `link` turns a report file into a URL (None: shown as its path)."""
    rows = ["| gate | result | findings | summary | reports |", "|---|---|---:|---|---|"]
    for gate in report.gates:
        links = []
        for label, path in gate.reports.items():
            url = link(path)
            links.append(f"[{label}]({url})" if url else f"{label}: `{path}`")
        rows.append(f"| `{gate.gate}` | {_ICONS.get(gate.result, gate.result)} | {gate.findings} | "
                    f"{_cell(gate.summary[:500])} | {' · '.join(links) or '—'} |")  # fmt: skip
    lines = [report.headline(), "", *rows]
    if report.notes:
        lines += ["", "Notes:", "", *[f"- {_cell(note)}" for note in report.notes]]
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", "<br>")
