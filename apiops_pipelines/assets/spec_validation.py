import dagster as dg

from apiops_pipelines.assets.api_spec import api_spec
from apiops_pipelines.assets.lineage_links import stage_metadata
from apiops_pipelines.assets.partitions import api_partitions
from apiops_pipelines.assets.run_spec import load_run_spec, run_spec
from apiops_pipelines.gates.from_git import ruleset_at
from apiops_pipelines.gates.markdown import findings_table
from apiops_pipelines.gates.spec_checks import check_spec
from apiops_pipelines.lint import RulesetError
from apiops_pipelines.lint.report import render_json, render_junit, render_sarif, summary, summary_line
from apiops_pipelines.resources.artifacts import ArtifactStoreResource
from apiops_pipelines.resources.repository import RepositoryResource

SPEC_IS_VALID = "spec_is_valid"
GOVERNANCE_LINT = "governance_lint"


def _check(name: str, description: str) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(name, asset="spec_validation", blocking=True, description=description)


@dg.asset(
    partitions_def=api_partitions,
    group_name="lifecycle",
    deps=[api_spec],
    kinds={"openapi"},
    description="Validation (the official schema, $refs that resolve) and governance lint (the API's Spectral-format "
    "ruleset, or the built-in spectral:oas + OWASP set: path parameters, operationIds, examples vs schemas "
    "are its rules, under Spectral's names). Both are blocking checks.",
    check_specs=[
        _check(SPEC_IS_VALID, "Official JSON Schema of the version, $refs that resolve: what no ruleset relaxes."),
        _check(GOVERNANCE_LINT, "The governance ruleset (spectral:oas rules included): errors block, warnings "
               "are shown."),
    ],
)
def spec_validation(
    context: dg.AssetExecutionContext, repository: RepositoryResource, artifacts: ArtifactStoreResource
) -> dg.MaterializeResult:
    api = context.partition_key
    recorded = run_spec(context)
    watched, spec = load_run_spec(repository, recorded)
    commit = recorded.commit
    try:
        with watched.repo:
            ruleset = ruleset_at(watched.repo, commit, spec.definition)
    except RulesetError as exc:
        raise dg.Failure(description=f"governance ruleset of '{api}': {exc}", allow_retries=False) from None
    report = check_spec(spec.bundle, ruleset)

    store = artifacts.store()
    reports = {
        "validation.json": render_json(report.validation),
        "lint.json": render_json(report.lint),
        "lint.sarif": render_sarif(report.findings, ruleset),
        "lint.junit.xml": render_junit(report.findings, ruleset, name=f"apiops lint {api}"),
    }
    stored = {name: store.write(api, commit, name, text.encode()) for name, text in reports.items()}
    context.log.info(f"{api}: validation {summary_line(report.validation)}; lint {summary_line(report.lint)}")

    lint_counts = summary(report.lint)
    checks = [
        dg.AssetCheckResult(
            check_name=SPEC_IS_VALID, passed=report.valid,
            description=summary_line(report.validation),
            metadata={**summary(report.validation), "findings": dg.MetadataValue.md(findings_table(report.validation)),
                      "report": dg.MetadataValue.path(str(stored["validation.json"]))},
        ),
        dg.AssetCheckResult(
            check_name=GOVERNANCE_LINT, passed=report.lint_passed,
            description=f"{summary_line(report.lint)} ({ruleset.source}, {len(ruleset.rules)} rules)",
            metadata={**lint_counts, "ruleset": ruleset.source,
                      "findings": dg.MetadataValue.md(findings_table(report.lint)),
                      "sarif": dg.MetadataValue.path(str(stored["lint.sarif"])),
                      "junit": dg.MetadataValue.path(str(stored["lint.junit.xml"]))},
        ),
    ]  # fmt: skip
    return dg.MaterializeResult(
        metadata={
            **stage_metadata(context, recorded),
            "validation_errors": sum(f.blocking for f in report.validation),
            "lint_errors": lint_counts["error"],
            "lint_warnings": lint_counts["warning"],
            "ruleset": ruleset.source,
            "findings": dg.MetadataValue.md(findings_table(report.findings)),
            "reports": dg.MetadataValue.json({name: str(path) for name, path in stored.items()}),
        },
        check_results=checks,
    )

