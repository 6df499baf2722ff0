"""What `canary_release` shows in the UI: the verdict as the `canary_analysis` check, the evidence tables,
each weight change, and the HTML report with charts (stored with the run's reports, linked)."""

from pathlib import Path

import dagster as dg

from apiops_pipelines.delivery.canary_release import ReleaseResult
from apiops_pipelines.delivery.canary_report import Timeline, evidence_markdown, render_html
from apiops_pipelines.fuzz.secrets import Scrubber
from apiops_pipelines.resources.platform import PlatformResource


def write_report(result: ReleaseResult, reports: Path, api: str, commit: str) -> Path:
    outcome = result.outcome
    html = render_html(
        api=api, commit=commit, stable_commit=result.stable.commit if result.stable else None,
        evidence=outcome.evidence if outcome else None, timeline=outcome.timeline if outcome else Timeline(),
        weight_changes=outcome.weight_changes if outcome else (), steps=outcome.steps if outcome else (),
        started_at=outcome.started_at if outcome else result.release.deployed_at,
        ended_at=outcome.ended_at if outcome else result.release.deployed_at, touched_operations=result.touched,
    )  # fmt: skip
    path = reports / "canary-report.html"
    path.write_text(html, encoding="utf-8")
    return path


def canary_check(name: str, api: str, result: ReleaseResult, reports: Path, commit: str,
                 platform: PlatformResource, scrubber: Scrubber) -> dg.AssetCheckResult:  # fmt: skip
    report = write_report(result, reports, api, commit)
    outcome = result.outcome
    if outcome is None:
        done = sum(r.passed for r in result.smoke)
        description = (f"initial release: no canary comparison; smoke pass through the frontend "
                       f"{'passed' if result.passed else 'FAILED'} ({done}/{len(result.smoke)} operations)")
        failed = [f"{r.operation}: {r.problem}" for r in result.smoke if not r.passed]
        if failed:
            description += ": " + "; ".join(failed[:5])
        metadata = {"initial_release": True, "report": platform.report_link(report)}
    else:
        verdict = outcome.verdict
        description = f"{verdict.decision.value}: {verdict.reason}"
        if outcome.cut_after_s is not None:
            description += f" (canary traffic cut {outcome.cut_after_s * 1000:.0f} ms after the verdict; rolled back)"
        metadata = {"decision": verdict.decision.value, "canary_requests": verdict.canary_requests,
                    "stable_requests": verdict.stable_requests,
                    "cut_after_ms": round(outcome.cut_after_s * 1000, 1) if outcome.cut_after_s is not None else -1.0,
                    "report": platform.report_link(report)}  # fmt: skip
    return dg.AssetCheckResult(check_name=name, passed=result.passed,
                               description=scrubber.text(description)[:2000], metadata=metadata)  # fmt: skip


def canary_metadata(result: ReleaseResult, reports: Path, platform: PlatformResource) -> dict:
    release, stable, outcome = result.release, result.stable, result.outcome
    report = reports / "canary-report.html"
    metadata = {
        "canary_server": release.server,
        "canary_program": release.program or "(upstream)",
        "canary_address": release.address,
        "stable": f"{stable.spec_version} @ {stable.commit[:12]} ({stable.server})" if stable else "none (first release)",
        "html_report": platform.report_link(report),
        "reports": platform.report_link(reports),
    }  # fmt: skip
    if outcome is None:
        rows = ["| operation | path | status | ms | result |", "|---|---|---:|---:|---|"]
        rows += [f"| {r.operation} | `{r.url_path}` | {r.status or '—'} | {r.ms:g} | {r.problem or 'ok'} |"
                 for r in result.smoke]  # fmt: skip
        return {**metadata, "initial_release": True, "smoke_pass": dg.MetadataValue.md("\n".join(rows))}
    verdict = outcome.verdict
    url = platform.platform().report_url(report)
    return {
        **metadata,
        "decision": verdict.decision.value,
        "reason": verdict.reason,
        "canary_requests": verdict.canary_requests,
        "stable_requests": verdict.stable_requests,
        "duration_s": round(outcome.ended_at - outcome.started_at, 1),
        "rolled_back_after_ms": round(outcome.cut_after_s * 1000, 1) if outcome.cut_after_s is not None else -1.0,
        "touched_operations": ", ".join(result.touched) or "none",
        "touched_not_exercised": ", ".join(result.not_exercised) or "none",
        "traffic": f"generated, {result.traffic.rps:g} req/s ({result.traffic.users} users)" if result.traffic
                   else "live",
        "notes": "; ".join(outcome.notes) or "none",
        "evidence": dg.MetadataValue.md(evidence_markdown(
            outcome.evidence, outcome.weight_changes, started_at=outcome.started_at, ended_at=outcome.ended_at,
            touched_operations=result.touched, report_url=url)),
        "evidence_json": dg.MetadataValue.json(outcome.evidence.as_dict()),
    }  # fmt: skip
