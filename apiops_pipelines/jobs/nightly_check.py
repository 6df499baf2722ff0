"""The `nightly_regression` check on `production_deployment`: declared here so the UI lists it on the asset,
evaluated by the `nightly` job (jobs/nightly.py), one evaluation per API (partition) and night.

Why the job logs the evaluation itself rather than running the check as a step of an asset job: a job that
selects only checks takes no partition of a dynamic partitions definition (Dagster 1.13), and an asset job
that selects `production_deployment` would promote a canary if launched without a narrower selection. The
evaluation names its partition and the production materialization it judged, so the UI ties it to that
release; the next release (or rollback) clears it until the next night. Non-blocking: a failing nightly turns
the asset red and leaves the run green; nothing downstream waits on it.
"""

import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData,  # not re-exported by dagster; AssetCheckEvaluation takes it
)

from apiops_pipelines.assets.partitions import api_partitions
from apiops_pipelines.assets.records import PRODUCTION_DEPLOYMENT, latest_record
from apiops_pipelines.nightly import NightlyReport, gates_table

NIGHTLY_REGRESSION = "nightly_regression"
NIGHTLY_CHECK_KEY = dg.AssetCheckKey(PRODUCTION_DEPLOYMENT, NIGHTLY_REGRESSION)

with warnings.catch_warnings():
    # Partitioned checks are a preview in 1.13, but without a partitions_def Dagster leaves evaluations that name
    # a partition out of the check's per-partition state: no API's result would show. Silenced: it prints at
    # every load of the code location.
    warnings.simplefilter("ignore", dg.PreviewWarning)
    _SPEC = dg.AssetCheckSpec(
        NIGHTLY_REGRESSION, asset=PRODUCTION_DEPLOYMENT, blocking=False, partitions_def=api_partitions,
        description="The production release verified again each night (the nightly job, schedule "
        "nightly_regression): spec gates with today's ruleset, today's consumer pacts against the spec and the "
        "running service, fuzzing with a fresh seed, every recorded fuzz failure replayed, load against the "
        "production baseline. A per-gate table with links to the reports. Deploys nothing, moves no baseline.",
    )  # fmt: skip


@dg.multi_asset_check(specs=[_SPEC], can_subset=True, name="nightly_regression_declared",
                      description="Declares nightly_regression; the nightly job evaluates it.")  # fmt: skip
def nightly_regression_check(context: dg.AssetCheckExecutionContext) -> Iterator[dg.AssetCheckResult]:
    # Asset jobs that select production_deployment (release) include its checks: this step must then do
    # nothing, not re-verify a release it just made. The UI shows the check as not evaluated until tonight.
    context.log.info("nightly_regression is evaluated by the nightly job (schedule nightly_regression); launch "
                     "that job with config {api: ...} to re-verify a production release now")  # fmt: skip
    yield from ()


def nightly_evaluation(instance: dg.DagsterInstance, report: NightlyReport, link: Callable[[Path], str | None],
                       run_url: str) -> dg.AssetCheckEvaluation:  # fmt: skip
    """The check result for `report`, tied to the API's latest production materialization (the release the
    nightly verified; a rollback is a materialization too)."""
    found = latest_record(instance, PRODUCTION_DEPLOYMENT, report.api)
    target = (AssetCheckEvaluationTargetMaterializationData(storage_id=found.storage_id, run_id=found.run_id,
                                                            timestamp=found.timestamp)
              if found is not None else None)  # fmt: skip
    failed, folder = report.failed_gates, link(report.reports)
    return dg.AssetCheckEvaluation(
        asset_key=PRODUCTION_DEPLOYMENT, check_name=NIGHTLY_REGRESSION, passed=report.passed, partition=report.api,
        severity=dg.AssetCheckSeverity.ERROR if report.severity == "ERROR" else dg.AssetCheckSeverity.WARN,
        description=report.headline()[:2000], blocking=False, target_materialization_data=target,
        metadata={
            "commit": report.commit, "spec_version": report.spec_version, "spec_sha256": report.spec_sha256,
            "branch": report.branch, "branch_head": report.branch_head,
            "gates_failed": len(failed), "gates": dg.MetadataValue.md(gates_table(report, link)),
            "results": dg.MetadataValue.json({gate.gate: gate.result for gate in report.gates}),
            "failed": ", ".join(g.gate for g in failed) or "none",
            "reports": dg.MetadataValue.url(folder) if folder else dg.MetadataValue.path(str(report.reports)),
            "nightly_run": dg.MetadataValue.url(run_url),
        },
    )  # fmt: skip
