"""The canary's HTML report: one self-contained file (inline CSS and SVG, no script, nothing fetched).

It is served from the loopback report server next to every other report of the estate, so it trusts none
of its input: every string is escaped where it is written, and a Content-Security-Policy that allows no
script and no fetch stands behind the escaping, in case one is ever missed.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from apiops_pipelines.delivery.canary_analysis.evidence import AnalysisEvidence
from apiops_pipelines.delivery.canary_report.charts import build_charts
from apiops_pipelines.delivery.canary_report.html_style import CSS
from apiops_pipelines.delivery.canary_report.html_tables import (budget_table, e, evidence_sections,
                                                                 weight_table)  # fmt: skip
from apiops_pipelines.delivery.canary_report.html_verdict import header, verdict_box
from apiops_pipelines.delivery.canary_report.timeline import StepBoundary, Timeline, WeightChange

POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


def render_html(*, api: str, commit: str, stable_commit: str | None, evidence: AnalysisEvidence | None,
                timeline: Timeline, weight_changes: Sequence[WeightChange] = (), steps: Sequence[StepBoundary] = (),
                started_at: float, ended_at: float | None = None, touched_operations: Collection[str] = (),
                window_s: float = 5.0, max_rows: int | None = None) -> str:  # fmt: skip
    """The report as one HTML document.

    `evidence` None: the API's first release (no stable to compare with). `steps` empty: the boundaries are
    taken from the evidence's steps. `started_at` (Unix seconds, the first step) is the charts' zero;
    `ended_at` None: still running. `window_s`: the rolling window of the charts' rates and p95.
    `max_rows` None shows every operation (the Markdown caps its tables and points here).
    """
    if not steps and evidence is not None:
        steps = [StepBoundary(s.started_at, s.percent) for s in evidence.steps if s.percent]
    verdict = evidence.verdict if evidence is not None else None
    charts = build_charts(timeline, started_at=started_at, ended_at=ended_at, steps=steps,
                          weight_changes=weight_changes, verdict=verdict, window_s=window_s)  # fmt: skip
    figures = "\n".join(f'<figure class="chart"><figcaption>{e(c.title)}</figcaption>\n{c.svg}\n</figure>'
                        for c in charts)  # fmt: skip
    window = max(window_s, timeline.bucket_s)
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{e(POLICY)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Canary release of {e(api)} at {e(commit[:12])}</title>",
        f"<style>{CSS}</style></head><body>",
        header(api, commit, stable_commit, started_at, ended_at),
        verdict_box(evidence, started_at, ended_at),
        "<h2>Both arms over time</h2>",
        '<p class="note">Canary in orange, stable in blue. Dashed lines: step boundaries (the canary\'s share); '
        "triangles on the top edge: weight changes (hover for the weights); solid line: the rollback or "
        f"promotion. Rates and p95 cover the {window:g} s before each point; percentiles come from at most "
        f"{timeline.max_samples:,} latencies per {timeline.bucket_s:g} s and arm (exact below that, a uniform "
        "sample above); counts are exact.</p>",
        figures,
    ]
    if evidence is not None:
        parts.append(evidence_sections(evidence.overall, evidence.steps, evidence.budget, started_at=started_at,
                                       touched=touched_operations, max_rows=max_rows))  # fmt: skip
        parts += ["<h2>Alpha budget</h2>", budget_table(evidence.budget, evidence.alpha)]
    parts += ["<h2>Weight changes</h2>", weight_table(weight_changes, started_at), "</body></html>", ""]
    return "\n".join(parts)
