import json

import dagster as dg

from apiops_pipelines.assets.lineage_links import stage_metadata
from apiops_pipelines.assets.partitions import api_partitions
from apiops_pipelines.assets.run_spec import load_definition, run_spec
from apiops_pipelines.assets.run_staging import moves_baselines
from apiops_pipelines.assets.spec_validation import spec_validation
from apiops_pipelines.diff import render_json, render_markdown
from apiops_pipelines.gates.breaking import DiffReport, compare_specs
from apiops_pipelines.gates.consumers import check_consumers
from apiops_pipelines.gates.from_git import pacts_at
from apiops_pipelines.pacts import junit_xml
from apiops_pipelines.delivery.release_ledger import GATED, LedgerError, Release
from apiops_pipelines.resources.artifacts import ArtifactStoreResource
from apiops_pipelines.resources.repository import RepositoryResource

SEMVER_POLICY = "breaking_changes_versioned"
CONSUMER_PACTS = "consumer_pacts_match_spec"


def _check(name: str, description: str) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(name, asset="breaking_changes", blocking=True, description=description)


@dg.asset(
    partitions_def=api_partitions,
    group_name="lifecycle",
    deps=[spec_validation],
    kinds={"openapi"},
    description="What the revision changes for consumers: the diff against the spec they have now (the last "
    "promoted release; until one exists, the last spec that passed the gates) with the semver verdict, and "
    "every consumer pact checked against the spec. The changelog is in the metadata.",
    check_specs=[
        _check(SEMVER_POLICY, "A breaking change needs a major info.version bump (governance.semver: block, warn "
               "or allow); a version that goes backwards is an error."),  # fmt: skip
        _check(CONSUMER_PACTS, "Every interaction of every consumer pact fits the spec (no provider needed)."),
    ],
)
def breaking_changes(
    context: dg.AssetExecutionContext, repository: RepositoryResource, artifacts: ArtifactStoreResource
) -> dg.MaterializeResult:
    api = context.partition_key
    spec = run_spec(context)
    watched, definition = load_definition(repository, spec)
    commit, policy, data = spec.commit, definition.config.governance.semver, spec.data()
    document = json.loads(data)
    folder = definition.paths.get("contracts.pacts")
    with watched.repo:
        pacts, unreadable = pacts_at(watched.repo, commit, folder) if folder else ([], [])
    consumers = check_consumers(document, definition.spec_path, folder, pacts, unreadable, definition.config.contracts)
    store = artifacts.store()
    pacts_junit = store.write(api, commit, "pacts.junit.xml", junit_xml(consumers.results, unreadable).encode())
    ledger = artifacts.ledger()
    try:
        baseline = ledger.baseline(api)
    except LedgerError as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from None

    if baseline is None:
        report, base_label = None, "none"
        changelog = f"First release of `{api}` ({spec.spec_version}): no earlier spec to compare with."
        semver = dg.AssetCheckResult(check_name=SEMVER_POLICY, passed=True, description=changelog)
    else:
        report = compare_specs(json.loads(ledger.spec_path(baseline).read_bytes()), document, policy)
        base_label = f"{baseline.spec_version} @ {baseline.commit[:12]} ({baseline.stage})"
        changelog = render_markdown(report.changes, report.verdicts, base_label,
                                    f"{spec.spec_version} @ {commit[:12]}")  # fmt: skip
        store.write(api, commit, "changes.json", render_json(report.changes, report.verdicts).encode())
        semver = _semver_result(report, policy)
    changelog_file = store.write(api, commit, "changelog.md", changelog.encode())
    pacts_result = dg.AssetCheckResult(
        check_name=CONSUMER_PACTS, passed=not consumers.blocking, description=consumers.headline(),
        metadata={"consumers": len(consumers.consumers), **consumers.counts,
                  "additional_properties_in_response": consumers.additional_properties_in_response,
                  "results": dg.MetadataValue.md(consumers.table()), "junit": dg.MetadataValue.path(str(pacts_junit))},
    )  # fmt: skip

    gated = not consumers.blocking and (report is None or not report.blocking) and moves_baselines(context)
    if gated:
        ledger.record(Release(api, GATED, commit, spec.spec_version, spec.spec_sha256, context.run.run_id), data)
    context.log.info(f"{api}: {semver.description}; pacts: {consumers.headline()}")
    counts = report.counts if report else {"breaking": 0, "non-breaking": 0, "info": 0}
    return dg.MaterializeResult(
        metadata={
            **stage_metadata(context, spec),
            "baseline": base_label,
            "baseline_commit": baseline.commit if baseline else "",
            "breaking": counts["breaking"],
            "non_breaking": counts["non-breaking"],
            "info": counts["info"],
            "semver_policy": policy,
            "consumers": dg.MetadataValue.json(consumers.consumers),
            "accepted_as_baseline": gated,
            "changelog": dg.MetadataValue.md(changelog),
            "changelog_file": dg.MetadataValue.path(str(changelog_file)),
        },
        check_results=[semver, pacts_result],
    )


def _semver_result(report: DiffReport, policy: str) -> dg.AssetCheckResult:
    worst = next((v for v in report.verdicts if v.level in ("error", "warning")), None)
    return dg.AssetCheckResult(
        check_name=SEMVER_POLICY,
        passed=worst is None,
        severity=dg.AssetCheckSeverity.ERROR if report.blocking else dg.AssetCheckSeverity.WARN,
        description=worst.message if worst else "; ".join(v.message for v in report.verdicts) or "no changes",
        metadata={**report.counts, "policy": policy, "base_version": report.base_version,
                  "revision_version": report.revision_version},
    )  # fmt: skip
