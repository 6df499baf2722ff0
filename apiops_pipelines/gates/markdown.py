"""Findings as a Markdown table for the Dagster UI: where, what, how to fix, errors first."""

from __future__ import annotations

from collections.abc import Sequence

from apiops_pipelines.findings import Finding


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", "<br>")


def findings_table(findings: Sequence[Finding], limit: int = 100) -> str:
    if not findings:
        return "No findings."
    lines = ["| Severity | Rule | Where | Problem | Fix |", "| --- | --- | --- | --- | --- |"]
    for finding in findings[:limit]:
        lines.append(f"| {finding.severity} | `{_cell(finding.rule)}` | `{_cell(finding.location)}` | "
                     f"{_cell(finding.message)} | {_cell(finding.fix or '')} |")  # fmt: skip
    if len(findings) > limit:
        lines += ["", f"… and {len(findings) - limit} more (see the JSON, SARIF and JUnit reports)."]
    return "\n".join(lines)
