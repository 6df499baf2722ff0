import json
import os
import time

import dagster as dg

from apiops_pipelines.assets.partitions import api_partitions
from apiops_pipelines.estate.index import IndexStore
from apiops_pipelines.estate.git import GitError
from apiops_pipelines.jobs.verify import verify_job
from apiops_pipelines.estate.repo_source import redact
from apiops_pipelines.resources.repository import RepositoryResource
from apiops_pipelines.estate.branch_scan import (
    BranchTick, list_branches, parse_cursor, parse_patterns, pin_verified, plan_branches, verify_run_key, watched,
)  # fmt: skip
from apiops_pipelines.settings import DEFAULT_VERIFY_BRANCHES, SENSOR_INTERVAL_ENV, VERIFY_BRANCHES_ENV, env_int

MAX_BRANCHES_PER_TICK = 20
# Dagster gives a tick 60 s and the fetch may take up to 40 of them: no new branch is started after this.
PLANNING_DEADLINE_S = 45
# Indexes by commit, shared by branches (many start from the same merge-base); older ones are rebuilt on demand.
INDEXES_KEPT = 128


@dg.sensor(
    name="verify_branch_sensor",
    job=verify_job,
    minimum_interval_seconds=env_int(SENSOR_INTERVAL_ENV, 30),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts one verify run per API touched by new commits on branches other than the tracked one "
    f"(those matching {VERIFY_BRANCHES_ENV}, default every branch).",
)
def verify_branch_sensor(context: dg.SensorEvaluationContext, repository: RepositoryResource) -> dg.SensorResult:
    started = time.monotonic()
    patterns = parse_patterns(os.environ.get(VERIFY_BRANCHES_ENV), DEFAULT_VERIFY_BRANCHES)
    if not patterns:
        return dg.SensorResult(skip_reason=f"branch verification is off: {VERIFY_BRANCHES_ENV} is empty")
    cursor, warning = parse_cursor(context.cursor)
    if warning:
        context.log.warning(warning)
    try:
        source = repository.watched()
        if not source.refresh(wait=False, timeout_s=40):
            message = f"cloning {redact(source.location)} into the cache; branches are verified once it is done"
            context.log.info(message)
            return dg.SensorResult(skip_reason=message)
        tracked_head = source.head()
        with source.repo as repo:  # ends the tick's cat-file processes
            branches = watched(list_branches(repo), source.branch, patterns)
            store = IndexStore(repository.state_folder("branch-index"), keep=INDEXES_KEPT)
            tick = plan_branches(repo, store, cursor, source.branch, tracked_head, branches,
                                 MAX_BRANCHES_PER_TICK, started + PLANNING_DEADLINE_S)  # fmt: skip
    except GitError as exc:
        context.log.error(redact(str(exc)))
        return dg.SensorResult(skip_reason=redact(str(exc)))  # the cursor stays: the next tick retries
    for line in tick.log:
        context.log.info(line)
    for error in tick.errors:
        context.log.error(redact(error))
    if source.remote:
        try:
            pin_verified(source.repo, tick.cursor)
        except GitError as exc:  # the runs stand; a force-push then relies on the stored index of the old commit
            context.log.warning(f"could not pin the verified commits: {redact(str(exc))}")
    known = set(context.instance.get_dynamic_partitions(api_partitions.name))
    new = sorted({run.api for _branch, run in tick.runs} - known)
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=verify_run_key(branch, run), partition_key=run.api,
                tags={**run.tags(branch), "apiops/job": "verify"},
            )  # fmt: skip
            for branch, run in tick.runs
        ],
        dynamic_partitions_requests=[api_partitions.build_add_request(new)] if new else [],
        cursor=json.dumps(tick.cursor, sort_keys=True),
        skip_reason=None if tick.runs else _quiet_reason(tick, len(branches), source.branch, patterns),
    )


def _quiet_reason(tick: BranchTick, watched_count: int, tracked: str, patterns: list[str]) -> str:
    if tick.errors:
        return redact(f"{len(tick.errors)} branch(es) could not be read, retried next tick: {tick.errors[0]}")
    if not watched_count:
        return f"no branch other than {tracked} matches {VERIFY_BRANCHES_ENV}={','.join(patterns)}"
    if not tick.planned and tick.deferred:
        return f"the tick ran out of time: {len(tick.deferred)} branch(es) with new commits left for the next tick"
    if not tick.planned:
        return f"no new commit on {watched_count} watched branch(es)"
    return f"no API touched by the new commits of {len(tick.planned)} branch(es) ({watched_count} watched)"
