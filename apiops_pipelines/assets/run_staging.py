"""What the verification stages share: the run's own staging instance, where their reports go, and whether
the run may move the API's baselines (a `verify` run, for a branch or a pull request, never does)."""

from pathlib import Path

import dagster as dg

from apiops_pipelines.artifacts import ArtifactStore
from apiops_pipelines.assets.records import latest_record
from apiops_pipelines.assets.run_spec import RunSpec

STAGING = dg.AssetKey("staging_deployment")
VERIFY_JOB = "verify"


def staging_url(context: dg.AssetExecutionContext) -> str:
    """The base URL of the instance `staging_deployment` started in this run (private to the run)."""
    api = context.partition_key
    record = latest_record(context.instance, STAGING, api)
    if record is None or record.run_id != context.run.run_id:
        raise dg.Failure(description=f"no staging instance of '{api}' in this run: the verification stages test "
                         "the instance staging_deployment starts in the same run (it is torn down when its run "
                         "ends); run them with staging_deployment, as the release and verify jobs do",
                         allow_retries=False)  # fmt: skip
    return str(record.asset_materialization.metadata["url"].value).rstrip("/")


def report_folder(store: ArtifactStore, spec: RunSpec, stage: str, run_id: str) -> Path:
    """`<artifacts>/<api>/<commit>/<stage>-<run>/`: one folder per run, so a rerun keeps the earlier evidence."""
    folder = store.folder(spec.api, spec.commit) / f"{stage}-{run_id[:8]}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def moves_baselines(context: dg.AssetExecutionContext) -> bool:
    return context.job_name != VERIFY_JOB
