"""The top of the report: what was released against what, and the verdict with the test that decided it."""

from __future__ import annotations

from apiops_pipelines.delivery.canary_analysis.evidence import AnalysisEvidence, Decision, Finding, Verdict
from apiops_pipelines.delivery.canary_report import formatting as fmt
from apiops_pipelines.delivery.canary_report.html_tables import e


def header(api: str, commit: str, stable_commit: str | None, started_at: float, ended_at: float | None) -> str:
    stable = (f'<code title="{e(stable_commit)}">{e(fmt.short_commit(stable_commit))}</code>' if stable_commit
              else "none (initial release)")  # fmt: skip
    end = fmt.iso_utc(ended_at) if ended_at is not None else "still running"
    return (
        f"<h1>Canary release of <code>{e(api)}</code></h1>"
        f'<p class="meta">commit <code>{e(commit)}</code><br>canary <code title="{e(commit)}">'
        f"{e(fmt.short_commit(commit))}</code> vs stable {stable}<br>"
        f"{e(fmt.iso_utc(started_at))} to {e(end)}</p>"
    )


def decision_label(verdict: Verdict) -> tuple[str, str]:
    """(css class, the words in the box)."""
    if verdict.decision is Decision.FAIL:
        return "fail", "Rolled back: the canary failed"
    if verdict.decision is Decision.INSUFFICIENT_DATA:
        return "insufficient", "Rolled back: insufficient data"
    if verdict.decision is Decision.PASS:
        return "pass", "Promoted" if verdict.final else f"Step {verdict.step}% passed"
    return "running", "Running"


def _finding(finding: Finding, started_at: float) -> str:
    rows = (
        ("Metric", finding.metric), ("Operation", finding.operation), ("Canary", finding.canary_value),
        ("Stable", finding.stable_value), ("Statistic", finding.statistic), ("α of the test", fmt.alpha(finding.alpha)),
        ("When", f"step {finding.step}%, {fmt.since(finding.time, started_at)} ({fmt.iso_utc(finding.time)})"),
    )  # fmt: skip
    body = "".join(f"<tr><th>{e(name)}</th><td>{e(value)}</td></tr>" for name, value in rows)
    return f'<table class="finding"><caption>The test that failed</caption>{body}</table>'


def verdict_box(evidence: AnalysisEvidence | None, started_at: float, ended_at: float | None) -> str:
    if evidence is None:
        return ('<section class="verdict initial"><div class="decision">Initial release: no canary comparison'
                "</div><p>Nothing runs in production yet: there is no stable release to judge the new one against, "
                "so there is no verdict to show (and none is made up).</p></section>")  # fmt: skip
    verdict = evidence.verdict
    css, words = decision_label(verdict)
    end = verdict.time if ended_at is None else ended_at
    parts = [
        f'<section class="verdict {css}"><div class="decision">{e(words)}</div>',
        f'<p class="reason">{e(verdict.reason)}</p>',
    ]
    if verdict.finding is not None:
        parts.append(_finding(verdict.finding, started_at))
    if verdict.waiting_for:
        parts.append("<ul>" + "".join(f"<li>{e(w)}</li>" for w in verdict.waiting_for) + "</ul>")
    step = f"step {verdict.step}%" if verdict.step else "no step yet"
    parts.append(
        f"<p>{e(fmt.count(verdict.canary_requests))} canary and {e(fmt.count(verdict.stable_requests))} stable "
        f"requests over {e(fmt.duration(end - started_at))}; decided in {e(step)} at "
        f"{e(fmt.since(verdict.time, started_at))}; false-alarm rate α {e(fmt.alpha(evidence.alpha))} over every "
        "test, step and look.</p></section>"
    )
    return "".join(parts)
