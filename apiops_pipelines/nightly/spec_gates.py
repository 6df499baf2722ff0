"""The nightly's gates that need no running service: the production spec under today's ruleset, and today's
consumer pacts against the production spec. Reports are written under `folder`."""

from __future__ import annotations

from pathlib import Path

from apiops_pipelines.findings import Finding
from apiops_pipelines.gates.consumers import check_consumers
from apiops_pipelines.gates.markdown import findings_table
from apiops_pipelines.gates.spec_checks import check_spec
from apiops_pipelines.lint import Ruleset
from apiops_pipelines.lint.report import render_json, render_sarif, summary, summary_line
from apiops_pipelines.nightly.model import ERROR, FAILED, PASSED, SKIPPED, GateOutcome
from apiops_pipelines.nightly.sources import NightlySources
from apiops_pipelines.pacts import junit_xml


def spec_gates(sources: NightlySources, folder: Path) -> list[GateOutcome]:
    folder.mkdir(parents=True, exist_ok=True)
    return [*_validation_and_lint(sources, folder), _pacts_against_spec(sources, folder)]


def _validation_and_lint(sources: NightlySources, folder: Path) -> list[GateOutcome]:
    bundle = sources.production.bundle
    ruleset = sources.ruleset
    if ruleset is None:  # today's ruleset is broken: validation still runs, lint is an error that names why
        report = check_spec(bundle, Ruleset(rules=(), source="(none: today's ruleset could not be read)"))
        validation = _validation(report.validation, folder)
        return [validation, GateOutcome("governance_lint", ERROR, 1, str(sources.ruleset_error))]
    report = check_spec(bundle, ruleset)
    lint_json = folder / "lint.json"
    lint_json.write_text(render_json(report.lint), encoding="utf-8")
    sarif = folder / "lint.sarif"
    sarif.write_text(render_sarif(report.findings, ruleset), encoding="utf-8")
    table = folder / "lint.md"
    table.write_text(findings_table(report.lint), encoding="utf-8")
    errors = summary(report.lint)["error"]
    first = next((f"{f.rule} at {f.location}: {f.message}" for f in report.lint if f.blocking), None)
    lint = GateOutcome("governance_lint", PASSED if report.lint_passed else FAILED, errors,
                       f"{summary_line(report.lint)} (today's ruleset: {ruleset.source}, {len(ruleset.rules)} rules)"
                       + (f"; first: {first}" if first else ""),
                       {"findings": table, "sarif": sarif, "json": lint_json})  # fmt: skip
    return [_validation(report.validation, folder), lint]


def _validation(findings: list[Finding], folder: Path) -> GateOutcome:
    report = folder / "validation.json"
    report.write_text(render_json(findings), encoding="utf-8")
    blocking = sum(f.blocking for f in findings)
    return GateOutcome("spec_is_valid", FAILED if blocking else PASSED, blocking, summary_line(findings),
                       {"json": report})  # fmt: skip


def _pacts_against_spec(sources: NightlySources, folder: Path) -> GateOutcome:
    production = sources.production
    report = check_consumers(production.bundle.document, production.definition.spec_path,
                             sources.pacts_folder, sources.pacts, sources.unreadable,
                             sources.today.config.contracts)  # fmt: skip
    if not sources.pacts and not sources.unreadable:
        return GateOutcome("consumer_pacts_match_spec", SKIPPED, 0, report.headline())
    junit = folder / "pacts.junit.xml"
    junit.write_text(junit_xml(report.results, sources.unreadable), encoding="utf-8")
    table = folder / "pacts.md"
    table.write_text(report.table(), encoding="utf-8")
    counts = report.counts
    first = next((f"{r.consumer} '{r.description}': {f.message}" for r in report.results for f in r.findings
                  if f.blocking), None)  # fmt: skip
    return GateOutcome("consumer_pacts_match_spec", FAILED if report.blocking else PASSED,
                       counts["failed"] + counts.get("unreadable", 0),
                       f"today's pacts on {sources.today_commit[:12]}: {report.headline()}"
                       + (f"; first: {first}" if first else ""), {"results": table, "junit": junit})  # fmt: skip

