"""The canary's evidence as Markdown for Dagster metadata: a summary, tables per step and operation, weights.

Every string that comes from outside (operation names from the spec and the access log, reasons that quote
them) goes through `md()`: a `|` would split a table cell, a newline would end its row, and `<`, `[` or `*`
would turn a path into HTML, a link or emphasis in the UI. Tables stay readable at 100 operations: the
rows that decided the verdict come first (table_rows.py) and the rest are counted, not listed.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from urllib.parse import quote

from apiops_pipelines.delivery.canary_analysis.evidence import AnalysisEvidence, Decision, OperationEvidence
from apiops_pipelines.delivery.canary_report import formatting as fmt
from apiops_pipelines.delivery.canary_report.table_rows import ordered_rows, row_text, step_heading
from apiops_pipelines.delivery.canary_report.timeline import WeightChange

_SPECIAL = re.compile(r"([\\`*_\[\]|~])")

HEADERS = ("Operation", "Requests canary / stable", "5xx canary / stable", "4xx canary / stable",
           "p50 ms canary / stable", "p95 ms canary / stable", "p95 ratio", "HL shift ms [95% CI]",
           "5xx e-value / fails at", "4xx e-value / fails at", "Mann-Whitney (last look)", "Verdict")  # fmt: skip


def md(text: object) -> str:
    """`text` as literal Markdown inline text, safe in a table cell."""
    flat = " ".join(str(text).split())
    flat = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _SPECIAL.sub(r"\\\1", flat)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], align: str) -> str:
    """`align`: a letter per column, l or r (numbers right, so their digits line up)."""
    rule = "|".join("--:" if a == "r" else ":--" for a in align)
    lines = ["| " + " | ".join(headers) + " |", f"|{rule}|"]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    return "\n".join(lines)


def operations_table(rows: Sequence[OperationEvidence], budget: dict[str, float], *, max_rows: int | None = 25,
                     touched: Collection[str] = (), report_url: str | None = None) -> str:  # fmt: skip
    """One table of operation rows, the verdict-deciding ones first, then the reasons of the rows shown."""
    if not rows:
        return "No request reached either arm."
    shown, hidden = ordered_rows(rows, touched=touched, max_rows=max_rows)
    cells, reasons = [], []
    for row in shown:
        t = row_text(row, budget)
        verdict = f"**{md(t.verdict)}**" if t.verdict == "fail" else md(t.verdict)
        name = f"**{md(t.operation)}**" if row.operation in touched else md(t.operation)
        cells.append([name, *(" / ".join(map(md, pair)) for pair in (t.requests, t.server_errors,
                      t.client_errors, t.p50_ms, t.p95_ms)), md(t.p95_ratio), md(t.shift_ms), md(t.server_e),
                      md(t.client_e), md(t.latency), verdict])  # fmt: skip
        if t.reason:
            reasons.append(f"- {md(t.reason)}")
    parts = [_table(HEADERS, cells, "lrrrrrrrrrll")]
    if hidden:
        where = f"[the HTML report]({quote(report_url, safe=':/?&=#%')})" if report_url else "the HTML report"
        parts.append(f"\n… and {hidden:,} more operations (see {where})")
    if touched:
        parts.append("\nOperations in bold were touched by the change.")
    if reasons:
        parts.append("\n" + "\n".join(reasons))
    return "\n".join(parts)


def _decision_phrase(evidence: AnalysisEvidence) -> str:
    verdict = evidence.verdict
    step = f"step {verdict.step}%" if verdict.step else "the baseline"
    if verdict.decision is Decision.FAIL:
        return f"**Rolled back** in {step}"
    if verdict.decision is Decision.INSUFFICIENT_DATA:
        return f"**Rolled back: insufficient data** in {step}"
    if verdict.decision is Decision.PASS:
        return f"**Promoted** after {step}" if verdict.final else f"**{step.capitalize()} passed**"
    return f"**Running**, {step}"


def summary_markdown(evidence: AnalysisEvidence | None, *, started_at: float, ended_at: float | None = None) -> str:
    """One paragraph: the decision, its reason, both arms' requests and how long the canary ran.

    `evidence` None is the first release of an API, which has no stable to compare with.
    """
    if evidence is None:
        return ("**Initial release**: no canary comparison (no stable release runs in production yet); "
                f"started {fmt.iso_utc(started_at)}.")  # fmt: skip
    verdict = evidence.verdict
    end = verdict.time if ended_at is None else ended_at
    return (
        f"{_decision_phrase(evidence)}, {fmt.since(verdict.time, started_at)} after the canary started: "
        f"{md(verdict.reason)}. {fmt.count(verdict.canary_requests)} canary and {fmt.count(verdict.stable_requests)} "
        f"stable requests over {fmt.duration(end - started_at)} ({fmt.iso_utc(started_at)} to {fmt.iso_utc(end)}); "
        f"false-alarm rate α {fmt.alpha(evidence.alpha)} over every test, step and look."
    )


def weight_changes_markdown(weight_changes: Sequence[WeightChange], *, started_at: float) -> str:
    """Every weight change with its UTC time, its offset from the canary's start, both weights and why."""
    if not weight_changes:
        return "No weight change was recorded."
    rows = [[fmt.iso_utc(c.time), fmt.since(c.time, started_at), fmt.count(c.canary_weight),
             fmt.count(c.stable_weight), fmt.rate(c.canary_share), md(c.reason)]
            for c in sorted(weight_changes, key=lambda c: c.time)]  # fmt: skip
    headers = ("Time (UTC)", "Since start", "Canary weight", "Stable weight", "Canary share", "Reason")
    return _table(headers, rows, "lrrrrl")


def evidence_markdown(evidence: AnalysisEvidence | None, weight_changes: Sequence[WeightChange] = (), *,
                      started_at: float, ended_at: float | None = None, max_rows: int = 25,
                      touched_operations: Collection[str] = (), report_url: str | None = None) -> str:  # fmt: skip
    """The whole evidence: summary, the analysis per operation, each step per operation, the weight changes.

    `max_rows` caps the operations of each table (below "all operations"); `report_url` links the HTML report
    the left-out rows point to.
    """
    parts = [summary_markdown(evidence, started_at=started_at, ended_at=ended_at)]
    if evidence is not None:
        def table(rows: Sequence[OperationEvidence]) -> str:
            return operations_table(rows, evidence.budget, max_rows=max_rows, touched=touched_operations,
                                    report_url=report_url)  # fmt: skip

        parts += ["### Whole analysis", table(evidence.overall)]
        for step in evidence.steps:
            parts.append(f"### {md(step_heading(step, started_at))}")
            if step.reason:
                parts.append(md(step.reason))
            if len(evidence.steps) == 1:
                parts.append("The whole analysis above is this step: the canary ran one step only.")
            else:
                parts.append(table(step.operations))
    parts += ["### Weight changes", weight_changes_markdown(weight_changes, started_at=started_at)]
    return "\n\n".join(parts) + "\n"
