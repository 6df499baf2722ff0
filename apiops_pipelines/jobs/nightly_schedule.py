"""The `nightly_regression` schedule: one `nightly` run per API that production serves, once a day.

Dagster's own run-key deduplication for schedules is per tick (it matches the run key *and* the tick's
scheduled time), so a schedule that ticks twice a day would start every API twice. The tick therefore looks
for a run of the day's key itself and asks only for the missing ones; Dagster still drops a retried tick's
duplicates. The cron comes from APIOPS_NIGHTLY_CRON (UTC); a value that is not a cron expression falls back to
the default and says so at every tick, rather than breaking the code location.
"""

import os

import dagster as dg
from dagster._utils.schedules import is_valid_cron_string  # dagster's own validation, not re-exported

from apiops_pipelines.assets.run_commit import API_TAG, COMMIT_TAG
from apiops_pipelines.jobs.nightly import NIGHTLY_JOB, nightly_job
from apiops_pipelines.nightly import nightly_day, production_runs
from apiops_pipelines.resources.platform import PlatformResource
from apiops_pipelines.resources.repository import RepositoryResource

NIGHTLY_CRON_ENV = "APIOPS_NIGHTLY_CRON"
DEFAULT_NIGHTLY_CRON = "0 2 * * *"
NIGHTLY_TAG = "apiops/nightly"  # <api>:<day>, the run key: how a later tick of the day finds the run


def nightly_cron(value: str | None) -> tuple[str, str | None]:
    """The cron to use, and the problem with `value` when it cannot be (None: it is fine, or unset)."""
    value = (value or "").strip()
    if not value:
        return DEFAULT_NIGHTLY_CRON, None
    if is_valid_cron_string(value):
        return value, None
    return DEFAULT_NIGHTLY_CRON, (f"{NIGHTLY_CRON_ENV}={value!r} is not a cron expression (five fields, e.g. "
                                  f"'0 2 * * *'); using {DEFAULT_NIGHTLY_CRON!r}")  # fmt: skip


def build_nightly_schedule(cron: str | None = None) -> dg.ScheduleDefinition:
    """The schedule on `cron` (default: APIOPS_NIGHTLY_CRON, else 02:00 UTC)."""
    schedule, problem = nightly_cron(os.environ.get(NIGHTLY_CRON_ENV) if cron is None else cron)

    @dg.schedule(
        name="nightly_regression", job=nightly_job, cron_schedule=schedule, execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"One nightly run per API with a production release, once a day ({schedule} UTC, "
        f"{NIGHTLY_CRON_ENV})." + (f" {problem}." if problem else ""),
    )  # fmt: skip
    def nightly_regression(context: dg.ScheduleEvaluationContext, platform: PlatformResource,
                           repository: RepositoryResource) -> list[dg.RunRequest] | dg.SkipReason:  # fmt: skip
        if problem:
            context.log.warning(problem)
        day = nightly_day(context.scheduled_execution_time)
        runs, problems = production_runs(platform.deployments(), day)
        for line in problems:
            context.log.warning(f"skipped: {line}")
        waiting = [run for run in runs if not _started(context.instance, run.run_key)]
        if not waiting:
            return dg.SkipReason(f"{len(runs)} production API(s), every one already has its nightly run of {day}"
                                 if runs else "no API has a production release yet")  # fmt: skip
        return [
            dg.RunRequest(
                run_key=run.run_key, run_config={"ops": {"verify_production_release": {"config": {"api": run.api}}}},
                tags={API_TAG: run.api, COMMIT_TAG: run.release.commit, "apiops/branch": repository.branch,
                      "apiops/job": NIGHTLY_JOB, NIGHTLY_TAG: run.run_key},
            )  # fmt: skip
            for run in waiting
        ]

    return nightly_regression


def _started(instance: dg.DagsterInstance, key: str) -> bool:
    return bool(instance.get_run_records(dg.RunsFilter(tags={NIGHTLY_TAG: key}), limit=1))


nightly_regression = build_nightly_schedule()
