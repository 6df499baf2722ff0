"""The canary's evidence for people: Markdown for Dagster metadata and a self-contained HTML report.

Pure Python, standard library only, no Dagster. The canary_release asset feeds a `Timeline` the same
observations it feeds the analysis, records each `WeightChange` and `StepBoundary`, and at the end renders:

    timeline = Timeline(bucket_s=1.0)                 # bounded: max_samples latencies per bucket and arm
    for observation in observations:
        analysis.observe(observation)
        timeline.add(observation)
    evidence = analysis.evidence(now)
    metadata["evidence"] = MarkdownMetadataValue(evidence_markdown(evidence, weight_changes, started_at=t0,
                                                                   report_url=url))
    report.write_text(render_html(api="bookstore", commit=sha, stable_commit=stable_sha, evidence=evidence,
                                  timeline=timeline, weight_changes=weight_changes, steps=steps,
                                  started_at=t0, ended_at=now))

Times are Unix seconds throughout. `evidence` None stands for the first release of an API (no stable to
compare with). Modules: timeline (buckets, series, the marked moments), reservoir (the capped latency
sample), formatting (numbers for people), table_rows (what a row says, which rows come first), markdown,
scale / svg_chart / charts (the charts), html_tables / html_verdict / html_style / html (the report).
"""

from __future__ import annotations

from apiops_pipelines.delivery.canary_report.html import render_html
from apiops_pipelines.delivery.canary_report.markdown import (evidence_markdown, operations_table, summary_markdown,
                                                              weight_changes_markdown)  # fmt: skip
from apiops_pipelines.delivery.canary_report.timeline import SeriesPoint, StepBoundary, Timeline, WeightChange

__all__ = [
    "SeriesPoint", "StepBoundary", "Timeline", "WeightChange", "evidence_markdown", "operations_table",
    "render_html", "summary_markdown", "weight_changes_markdown",
]  # fmt: skip
