"""The `nightly` job: one API's production release verified again (engine: nightly/), its outcome the
`nightly_regression` check on `production_deployment` (jobs/nightly_check.py). Started by the
`nightly_regression` schedule (jobs/nightly_schedule.py), or from the launchpad with config `{api: NAME}`.

It deploys nothing and moves no baseline. A failed check leaves the run green (the check is not blocking);
the run fails only when the nightly could not judge at all (no production release, the repository unreadable).
"""

import os

import dagster as dg

from apiops_pipelines.assets.partitions import api_partitions
from apiops_pipelines.assets.run_commit import API_TAG, COMMIT_TAG
from apiops_pipelines.delivery.deployments import DeploymentRecordError
from apiops_pipelines.estate.git import GitError
from apiops_pipelines.estate.repo_source import redact
from apiops_pipelines.jobs.nightly_check import nightly_evaluation
from apiops_pipelines.nightly import NightlyRequest, run_nightly
from apiops_pipelines.resources.artifacts import ArtifactStoreResource
from apiops_pipelines.resources.notifier import run_url
from apiops_pipelines.resources.platform import PlatformResource
from apiops_pipelines.resources.repository import RepositoryResource
from apiops_pipelines.settings import allowed_targets

NIGHTLY_JOB = "nightly"  # its failed check is a "nightly check failed" notice (sensors/run_facts.py)


class NightlyConfig(dg.Config):
    api: str = ""  # empty: the run's apiops/api tag (the schedule sets both)


@dg.op(description="Verify the API's production release again as of today, on a fresh staging instance of its "
       "commit, and record the outcome as the nightly_regression check on production_deployment.")  # fmt: skip
def verify_production_release(
    context: dg.OpExecutionContext, config: NightlyConfig, repository: RepositoryResource,
    artifacts: ArtifactStoreResource, platform: PlatformResource,
) -> None:
    api, run_id = config.api or context.run.tags.get(API_TAG, ""), context.run.run_id
    if not api:
        raise dg.Failure(description="which API? set the op config {api: NAME} (the schedule sets it)",
                         allow_retries=False)  # fmt: skip
    try:
        stable = platform.deployments().load(api).stable
        watched = repository.watched()
        watched.refresh()
        head = watched.head()
        if stable is not None:
            watched.ensure_commit(stable.commit)
    except (DeploymentRecordError, ValueError, GitError) as exc:
        raise dg.Failure(description=redact(str(exc)), allow_retries=False) from None
    if stable is None:
        raise dg.Failure(description=f"'{api}' has no production release: nothing to verify", allow_retries=False)
    tagged = context.run.tags.get(COMMIT_TAG)
    if tagged and not stable.commit.startswith(tagged):  # a release or rollback landed since the tick
        context.log.warning(f"{api}: production serves {stable.commit[:12]} now, not {tagged[:12]} as when the "
                            "run was requested; verifying what it serves")  # fmt: skip
    if not context.instance.has_dynamic_partition(api_partitions.name, api):
        context.instance.add_dynamic_partitions(api_partitions.name, [api])  # the check is recorded per API
    reports = artifacts.store().folder(api, stable.commit) / f"nightly-{run_id[:8]}"
    reports.mkdir(parents=True, exist_ok=True)
    context.log.info(f"{api}: verifying production {stable.spec_version} @ {stable.commit[:12]} against today's "
                     f"rules and consumers ({watched.branch} at {head[:12]}); reports in {reports}")  # fmt: skip
    request = NightlyRequest(
        api, stable.commit, stable.spec_version, stable.spec_sha256, watched.repo, watched.branch, head, run_id,
        platform.running, platform.staging(), artifacts.ledger(), reports, repository.ref_policy(),
        allowed_targets(), dict(os.environ),
    )  # fmt: skip
    with watched.repo:  # ends the run's cat-file processes
        report = run_nightly(request, context.log.info)
    context.log_event(nightly_evaluation(context.instance, report, platform.platform().report_url, run_url(run_id)))
    # A failed nightly leaves the run green; the notify_check_failures sensor reads this run's evaluation (job
    # `nightly`, tags apiops/api and apiops/commit) and posts "nightly check failed": nothing is sent from here.
    (context.log.info if report.passed else context.log.warning)(f"{api}: {report.headline()}")


@dg.job(name=NIGHTLY_JOB, tags={"apiops/job": NIGHTLY_JOB},
        description="Re-verify one API's production release as of today (config: api); the outcome is the "
        "nightly_regression check on production_deployment. Deploys nothing, moves no baseline.")  # fmt: skip
def nightly_job() -> None:
    verify_production_release()
